import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import PlaceMap from './PlaceMap.svelte';

afterEach(async () => {
  cleanup();
  await new Promise((resolve) => setTimeout(resolve, 0));
  clearMocks();
});

describe('the map of a meetup place', () => {
  it('credits OpenStreetMap as text, with no link that could take the app window away', async () => {
    mockIPC((cmd) => (cmd === 'tile_url' ? 'http://127.0.0.1:1/{z}/{x}/{y}.png' : null));
    render(PlaceMap, { lat: 37.52, lng: 126.93, name: '여의도 한강공원', address: '서울특별시 영등포구 여의동로 330' });
    const map = screen.getByTestId('place-map');
    await waitFor(() => expect(map.querySelector('.leaflet-control-attribution')?.textContent).toContain('OpenStreetMap'));
    expect(map.querySelector('.leaflet-control-attribution')?.textContent).not.toContain('Leaflet');
    expect(map.querySelectorAll('.leaflet-control-attribution a')).toHaveLength(0);
  });

  it('keeps the hidden map out of the keyboard tab order; the name and address tell the place', () => {
    mockIPC(() => null);
    render(PlaceMap, { lat: 37.52, lng: 126.93, name: '여의도 한강공원', address: '서울특별시 영등포구 여의동로 330' });
    const hidden = screen.getByTestId('place-map').querySelector('[aria-hidden="true"]') as HTMLElement;
    expect(hidden.classList.contains('leaflet-container')).toBe(true);
    expect(hidden.tabIndex).toBeLessThan(0);
    const controls = [...hidden.querySelectorAll<HTMLElement>('a, button, [tabindex]')];
    expect(controls.length).toBeGreaterThan(0);
    expect(controls.filter((control) => control.tabIndex >= 0)).toEqual([]);
    expect(screen.getByTestId('place-name').textContent).toContain('여의도 한강공원');
  });
});
