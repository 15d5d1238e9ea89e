// Typed wrappers of the shell's meetup commands (src-tauri/COMMANDS.md, "Meetups") and of the
// `social` event. Names and argument names here are the contract with the shell; nothing else in
// the meetups screens calls `call` directly.
import { call, listenTo } from '../lib/ipc';
import type {
  ChatMessage,
  Comment,
  Listing,
  Meetup,
  MeetupBody,
  Notice,
  OutboxItem,
  Place,
  SocialEvent,
  Sort,
  UploadedImage,
} from './types';

export const meetups = (sort: Sort, region: string | null, cursor: string | null) =>
  call<Listing>('meetups', { sort, region, cursor });
export const meetup = (id: number) => call<Meetup | null>('meetup', { id });
export const comments = (id: number) => call<Comment[]>('comments', { id });
export const messages = (id: number) => call<ChatMessage[]>('messages', { id });
export const olderMessages = (id: number, beforeSeq: number) =>
  call<ChatMessage[]>('older_messages', { id, beforeSeq });
export const notice = (id: number) => call<Notice | null>('notice', { id });
export const outbox = () => call<OutboxItem[]>('outbox');
/** Follows the room live; whether the live chat is connected now. */
export const openRoom = (id: number) => call<boolean>('open_room', { id });

export const createMeetup = (meetup: MeetupBody) => call<string>('create_meetup', { meetup });
export const editMeetup = (id: number, changes: Partial<MeetupBody>) =>
  call<string>('edit_meetup', { id, changes });
export const deleteMeetup = (id: number) => call<string>('delete_meetup', { id });
export const like = (id: number, liked: boolean) => call<string>('like', { id, liked });
export const comment = (id: number, text: string) => call<string>('comment', { id, text });
export const editComment = (commentId: number, text: string) => call<void>('edit_comment', { commentId, text });
export const deleteComment = (commentId: number) => call<void>('delete_comment', { commentId });
export const join = (id: number) => call<string>('join', { id });
export const leave = (id: number) => call<string>('leave', { id });
export const sendMessage = (id: number, text: string) => call<string>('send_message', { id, text });
export const setNotice = (id: number, text: string | null) => call<void>('set_notice', { id, text });
export const dismiss = (key: string) => call<void>('dismiss', { key });

export const searchPlaces = (q: string) => call<Place[]>('search_places', { q });
/**
 * The header that carries the image's media type: the bytes go as the request's raw body (JSON
 * would make a 5 MB photo five million numbers), whose own Content-Type Tauri sets. The headers
 * are a plain object: where Tauri falls back to `postMessage` (Android) they are sent as JSON,
 * and a `Headers` instance would arrive empty.
 */
export const IMAGE_TYPE_HEADER = 'x-mingizuk-content-type';
export const uploadImage = (bytes: Uint8Array, contentType: string) =>
  call<UploadedImage>('upload_image', bytes, { headers: { [IMAGE_TYPE_HEADER]: contentType } });
export const tileUrl = () => call<string>('tile_url');
/** The server's address, to show a meetup's image (`GET /v1/media/{id}`). */
export const serverUrl = () => call<{ server_url: string }>('account').then((a) => a.server_url);

/**
 * Where a meetup's image is shown, on the server the app talks to. An upload's own `url` is
 * relative unless the server knows its public address, and the webview would resolve it against
 * the app's origin.
 */
export function imageUrl(server: string, imageId: string): string {
  return `${server.replace(/\/+$/, '')}/v1/media/${encodeURIComponent(imageId)}`;
}

/** Follows the `social` event; gives the unsubscribe (for an `onMount` to return). */
export function onSocial(handler: (event: SocialEvent) => void): () => void {
  const unlisten = listenTo<SocialEvent>('social', handler);
  return () => {
    unlisten.then((stop) => stop()).catch(() => {
      // The shell is gone already (the window closes): nothing left to unsubscribe.
    });
  };
}

/**
 * Outbox keys of meetup writes made on this screen (create, edit, delete, like, join, leave,
 * comment): when the server confirms one (`sent`) the screens showing it read it again.
 */
export const watchedWrites = new Set<string>();
