// The JSON shapes the shell's meetup commands answer with and the `social` event carries. They are
// the serde output of the server's views (sync-server/src/meetups/views.rs, chat frames) and of
// the client's types (client/src/social/mod.rs); keep them in step with those files.

/** A user as the social side shows one (a chat sender, a host, a member, a comment author). */
export interface Person {
  id: string;
  nickname: string;
}

export interface Location {
  place_name: string;
  address: string;
  lat: number;
  lng: number;
}

export interface Meetup {
  id: number;
  host: Person;
  title: string;
  contents: string;
  /** RFC 3339, UTC. */
  starts_at: string;
  ends_at: string;
  member_limit: number | null;
  image_id: string | null;
  location: Location;
  /** "시·도 시·군·구", derived by the server from the address. */
  region: string;
  member_count: number;
  like_count: number;
  liked_by_me: boolean;
  comment_count: number;
  ended: boolean;
  created_at: string;
  updated_at: string;
  /** In the detail only, host first. */
  members?: Person[];
}

/** A meetup as it is written (`create_meetup`): DESIGN.md's body, snake_case. */
export interface MeetupBody {
  title: string;
  contents: string;
  starts_at: string;
  ends_at: string;
  member_limit: number | null;
  image_id: string | null;
  location: Location;
}

export interface Comment {
  id: number;
  meetup_id: number;
  author: Person;
  text: string;
  created_at: string;
  updated_at: string;
}

/** A page of meetups; `offline` when it came from the device's cache. */
export interface Listing {
  items: Meetup[];
  next_cursor: string | null;
  offline: boolean;
}

export type Sort = 'new' | 'likes';

export interface ChatMessage {
  meetup_id: number;
  seq: number;
  id: number;
  client_id: string | null;
  /** `text`, `join` or `leave`. */
  kind: string;
  sender: Person | null;
  text: string;
  at: string;
}

export interface Notice {
  text: string;
  at: string;
}

export type Write =
  | { type: 'http'; kind: string; method: string; path: string; body: unknown }
  | { type: 'message'; meetup_id: number; text: string };

export interface OutboxItem {
  /** The write's idempotency key (a chat message's client id). */
  key: string;
  write: Write;
  attempts: number;
  /** The server's refusal, `[code, message]`: the write will not be retried. */
  refused: [string, string] | null;
  created_at_ms: number;
  /** When an attempt first may have reached the server without an answer coming back. */
  sent_at_ms: number | null;
}

export type SocialEvent =
  | { type: 'message'; message: ChatMessage }
  | { type: 'notice'; meetup_id: number; notice: Notice | null }
  | { type: 'sent'; key: string }
  | { type: 'refused'; key: string; code: string; message: string }
  | { type: 'online'; online: boolean };

/** A place search result. */
export interface Place {
  name: string;
  address: string;
  lat: number;
  lng: number;
  /** "시·도 시·군·구"; null when the address does not start with a Korean 시·도. */
  region: string | null;
}

export interface UploadedImage {
  id: string;
  url: string;
}

/** The signed-in user, as the app hands it to the meetups tab. */
export interface Me {
  id: string;
  email: string;
  nickname: string;
}
