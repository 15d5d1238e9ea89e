// Why an import was refused, one sentence per reason the engine gives (`ImportReason` in
// core/src/export/refusal.rs), Korean and English. `import.<reason>` needs only the values that
// reason always has (`{version}`, `{max}`); `.routine` and `.date` variants name the routine or
// the date when the refusal does. The engine's English `message` is never shown.
import type { Dictionary } from '../i18n.svelte';

export const importKo: Dictionary = {
  'import.too_big': '내보낸 파일은 {max}MB를 넘을 수 없어요. 다른 파일을 골라 주세요.',
  'import.not_json': 'JSON 파일이 아니에요. 밍기적에서 내보낸 .json 파일을 골라 주세요.',
  'import.not_an_export': '밍기적에서 내보낸 파일이 아니에요. ‘내보내기 (JSON)’로 만든 파일을 골라 주세요.',
  'import.newer_version': '더 새로운 밍기적에서 만든 파일이에요 (형식 {version}). 앱을 업데이트한 뒤 다시 가져와 주세요.',
  'import.damaged': '파일이 손상되었거나 수정된 것 같아요. 새로 내보낸 파일로 다시 시도해 주세요.',
  'import.duplicate': '파일에 같은 기록이 두 번 들어 있어요. 새로 내보낸 파일로 다시 시도해 주세요.',
  'import.duplicate.routine': '"{routine}" 루틴의 기록이 파일에 두 번 들어 있어요. 새로 내보낸 파일로 다시 시도해 주세요.',
  'import.unknown_preset': '이 버전의 밍기적에는 없는 기본 루틴이 들어 있어요. 앱을 업데이트한 뒤 다시 가져와 주세요.',
  'import.unknown_preset.routine':
    '이 버전의 밍기적에는 없는 기본 루틴("{routine}")이 들어 있어요. 앱을 업데이트한 뒤 다시 가져와 주세요.',
  'import.bad_name': '이름이 비어 있거나 {max}자를 넘는 루틴이 있어요. 파일이 수정된 것 같아요.',
  'import.bad_name.routine': '"{routine}" 루틴의 이름이 {max}자를 넘어요. 파일이 수정된 것 같아요.',
  'import.bad_actions': '이 앱에서 쓸 수 없는 동작이 든 루틴이 있어요. 앱을 업데이트하거나 새로 내보낸 파일로 시도해 주세요.',
  'import.bad_actions.routine':
    '"{routine}" 루틴에 이 앱에서 쓸 수 없는 동작이 들어 있어요. 앱을 업데이트하거나 새로 내보낸 파일로 시도해 주세요.',
  'import.bad_cycle': '루틴의 반복 기록이 맞지 않아요. 새로 내보낸 파일로 다시 시도해 주세요.',
  'import.bad_cycle.routine': '"{routine}" 루틴의 반복 기록이 맞지 않아요. 새로 내보낸 파일로 다시 시도해 주세요.',
  'import.bad_completion': '맞지 않는 운동 기록이 있어요. 새로 내보낸 파일로 다시 시도해 주세요.',
  'import.bad_completion.routine': '"{routine}" 루틴에 맞지 않는 운동 기록이 있어요. 새로 내보낸 파일로 다시 시도해 주세요.',
  'import.bad_date': '있을 수 없는 날짜의 기록이 있어요. 파일이 손상되었을 수 있어요.',
  'import.bad_date.date': '{date}로 적힌 기록이 있어요. 밍기적이 나오기 전이거나 파일을 내보낸 뒤의 날짜라 가져올 수 없어요.',
  'import.future_date': '이 기기의 오늘보다 뒤 날짜의 기록이 있어요. 기기의 날짜와 시간을 확인한 뒤 다시 가져와 주세요.',
  'import.future_date.date':
    '{date}로 적힌 기록이 있는데, 이 기기에서는 아직 오지 않은 날이에요. 기기의 날짜와 시간을 확인한 뒤 다시 가져와 주세요.',
};

export const importEn: Dictionary = {
  'import.too_big': 'An export is at most {max} MB, and this file is larger. Pick another file.',
  'import.not_json': 'This isn’t a JSON file. Pick the .json file you exported from Mingizuk.',
  'import.not_an_export': 'This file wasn’t exported from Mingizuk. Pick a file made with “Export (JSON)”.',
  'import.newer_version': 'This file comes from a newer Mingizuk (format {version}). Update the app, then import it again.',
  'import.damaged': 'This file looks damaged or edited. Try again with a fresh export.',
  'import.duplicate': 'The same record appears twice in this file. Try again with a fresh export.',
  'import.duplicate.routine': 'A record of the routine "{routine}" appears twice in this file. Try again with a fresh export.',
  'import.unknown_preset': 'This file has a preset routine this version of Mingizuk doesn’t know. Update the app, then import it again.',
  'import.unknown_preset.routine':
    'This file has the preset routine "{routine}", which this version of Mingizuk doesn’t know. Update the app, then import it again.',
  'import.bad_name': 'A routine in this file has no name, or one longer than {max} characters. The file looks edited.',
  'import.bad_name.routine': 'The name of the routine "{routine}" is longer than {max} characters. The file looks edited.',
  'import.bad_actions': 'A routine in this file has actions this app can’t use. Update the app, or try a fresh export.',
  'import.bad_actions.routine': 'The routine "{routine}" has actions this app can’t use. Update the app, or try a fresh export.',
  'import.bad_cycle': 'The rounds of a routine in this file don’t add up. Try again with a fresh export.',
  'import.bad_cycle.routine': 'The rounds of the routine "{routine}" don’t add up. Try again with a fresh export.',
  'import.bad_completion': 'A workout record in this file doesn’t add up. Try again with a fresh export.',
  'import.bad_completion.routine': 'A workout record of the routine "{routine}" doesn’t add up. Try again with a fresh export.',
  'import.bad_date': 'This file has a record with an impossible date. The file may be damaged.',
  'import.bad_date.date': 'This file has a record dated {date}: before Mingizuk existed, or after the file was exported.',
  'import.future_date': 'This file has records dated after today on this device. Check the device’s date and time, then import again.',
  'import.future_date.date':
    'This file has a record dated {date}, which hasn’t come yet on this device. Check the device’s date and time, then import again.',
};
