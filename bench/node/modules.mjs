// Imports a JavaScript package from the one node_modules folder of the repository (interop/,
// installed by scripts/setup.sh). ES modules ignore NODE_PATH, so the path is spelled out here,
// once; the packages' own imports resolve from where they are.

const modules = new URL("../../interop/node_modules/", import.meta.url)

export const fromInterop = path => import(new URL(path, modules).href)
