// Small engine answers for the component tests, shaped like the shell's JSON.
import type { CatalogAction, EntryView, RoutineView } from '../lib/types';

export const catalog: CatalogAction[] = [
  ['sit_stand', 'stretching', '앉았다 일어나기'],
  ['neck_roll', 'stretching', '목 돌리기'],
  ['shoulder_roll', 'stretching', '어깨 돌리기'],
  ['waist_roll', 'stretching', '허리 돌리기'],
  ['arm_circle', 'stretching', '팔 돌리기'],
  ['squat', 'body', '스쿼트'],
  ['lunge', 'body', '런지'],
].map(([id, kind, name]) => ({
  id,
  kind: kind as CatalogAction['kind'],
  name_ko: name,
  name_en: id,
  hint_ko: `${name} 힌트`,
  hint_en: `${id} hint`,
}));

export function entry(action: string, done = false, count = 10): EntryView {
  const a = catalog.find((c) => c.id === action) ?? catalog[0];
  return { id: `entry-${action}`, action, kind: a.kind, name_ko: a.name_ko, name_en: a.name_en, hint_ko: a.hint_ko, hint_en: a.hint_en, count, done };
}

export function routine(actions: string[], done: string[] = []): RoutineView {
  const entries = actions.map((a) => entry(a, done.includes(a)));
  return {
    id: 'routine-1',
    name: '아침 스트레칭',
    name_en: null,
    preset: false,
    is_main: true,
    cycle: 0,
    entries,
    done_count: done.length,
    complete: done.length === actions.length,
    completed_cycles: 0,
  };
}

export const limits = { routine_name_max: 30, routine_actions_max: 5, action_count_max: 99 };
