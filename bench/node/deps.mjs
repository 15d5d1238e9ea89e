// The JavaScript packages of the sync benchmark's scripts (see modules.mjs for where they come from).

import { fromInterop as from } from "./modules.mjs"

export const { Repo } = await from("@automerge/automerge-repo/dist/entrypoints/fullfat.js")
export const { WebSocketClientAdapter, WebSocketServerAdapter } = await from(
  "@automerge/automerge-repo-network-websocket/dist/index.js",
)
export const { NodeFSStorageAdapter } = await from("@automerge/automerge-repo-storage-nodefs/dist/index.js")
export const { WebSocketServer } = await from("ws/wrapper.mjs")
export const Automerge = await from("@automerge/automerge/dist/mjs/entrypoints/fullfat_node.js")
