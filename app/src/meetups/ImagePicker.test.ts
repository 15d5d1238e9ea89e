import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../lib/strings';
import { imageUrl } from './api';
import ImagePicker from './ImagePicker.svelte';

afterEach(async () => {
  cleanup();
  await new Promise((resolve) => setTimeout(resolve, 0));
  clearMocks();
});

/** The shell: `upload` answers `upload_image`, whose body (what mockIPC is handed) it gets. */
function shell(upload: (body: unknown) => unknown) {
  mockIPC((cmd, body) => {
    if (cmd === 'account') return { user: null, server_url: 'https://sync.example.com/' };
    if (cmd === 'upload_image') return upload(body);
    return null;
  });
}

/** Every IPC call with its options (mockIPC's callback never sees them: the headers go there). */
function spyOnIpc() {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { invoke: (...args: unknown[]) => Promise<unknown> } })
    .__TAURI_INTERNALS__;
  return vi.spyOn(internals, 'invoke');
}

async function choose(type = 'image/png') {
  const input = screen.getByTestId('meetup-image') as HTMLInputElement;
  const file = new File([new Uint8Array([1, 2, 3])], 'photo.png', { type });
  // jsdom's File cannot read itself.
  Object.assign(file, { arrayBuffer: async () => new Uint8Array([1, 2, 3]).buffer });
  Object.defineProperty(input, 'files', { value: [file] });
  await fireEvent.change(input);
}

describe('the meetup photo', () => {
  it('is shown from the server the app talks to, not from the app itself', () => {
    expect(imageUrl('https://sync.example.com/', 'abc')).toBe('https://sync.example.com/v1/media/abc');
    expect(imageUrl('http://127.0.0.1:8787', 'abc')).toBe('http://127.0.0.1:8787/v1/media/abc');
  });

  it('previews an upload the server answered with a relative address', async () => {
    shell(() => ({ id: 'img-1', url: '/v1/media/img-1' }));
    const { container } = render(ImagePicker, { imageId: null });
    await choose();
    await waitFor(() => expect(container.querySelector('img.preview')).not.toBeNull());
    expect(container.querySelector('img.preview')?.getAttribute('src')).toBe('https://sync.example.com/v1/media/img-1');
  });

  it('goes to the shell as its raw bytes with its type in a header, not as a list of numbers', async () => {
    const bodies: unknown[] = [];
    shell((body) => {
      bodies.push(body);
      return { id: 'img-2', url: '/v1/media/img-2' };
    });
    const ipc = spyOnIpc();
    const { container } = render(ImagePicker, { imageId: null });
    await choose('image/webp');
    await waitFor(() => expect(container.querySelector('img.preview')).not.toBeNull());

    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toBeInstanceOf(Uint8Array);
    expect(Array.from(bodies[0] as Uint8Array)).toEqual([1, 2, 3]);
    const upload = ipc.mock.calls.find(([cmd]) => cmd === 'upload_image');
    expect(upload?.[2]).toEqual({ headers: { 'x-mingizuk-content-type': 'image/webp' } });
  });

  it('previews the photo of a meetup being edited', async () => {
    shell(() => null);
    const { container } = render(ImagePicker, { imageId: 'img-9' });
    await waitFor(() => expect(container.querySelector('img.preview')?.getAttribute('src')).toBe('https://sync.example.com/v1/media/img-9'));
  });

  it('says in Korean why the server refused the upload', async () => {
    shell(() => {
      throw { code: 'upload_quota_exceeded', message: 'too many uploads today' };
    });
    render(ImagePicker, { imageId: null });
    await choose();
    const error = await screen.findByTestId('image-error');
    expect(error.dataset.code).toBe('upload_quota_exceeded');
    expect(error.textContent).toContain('사진을 너무 많이 올렸어요');
  });
});
