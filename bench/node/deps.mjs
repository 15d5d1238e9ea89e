// The JavaScript packages the benchmark scripts use, imported from the one node_modules folder
// of the repository (interop/, installed by scripts/setup.sh). ES modules ignore NODE_PATH, so
// the paths are spelled out here, once; the packages' own imports resolve from where they are.

const modules = new URL("../../interop/node_modules/", import.meta.url)
const from = path => import(new URL(path, modules).href)

export const { Repo } = await from("@automerge/automerge-repo/dist/entrypoints/fullfat.js")
export const { WebSocketClientAdapter, WebSocketServerAdapter } = await from(
  "@automerge/automerge-repo-network-websocket/dist/index.js",
)
export const { NodeFSStorageAdapter } = await from("@automerge/automerge-repo-storage-nodefs/dist/index.js")
export const { WebSocketServer } = await from("ws/wrapper.mjs")
export const Automerge = await from("@automerge/automerge/dist/mjs/entrypoints/fullfat_node.js")
