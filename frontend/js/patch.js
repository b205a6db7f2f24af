// Applies an event's state patch; the same function as meetings/rooms/patch.py.
export function applyPatch(state, patch) {
  for (const operation of patch || []) {
    const path = operation.path;
    const last = path[path.length - 1];
    let target = state;
    for (const part of path.slice(0, -1)) {
      if (typeof target[part] !== "object" || target[part] === null) target[part] = {};
      target = target[part];
    }
    if (operation.op === "merge") {
      if (typeof target[last] !== "object" || target[last] === null) target[last] = {};
      Object.assign(target[last], operation.value);
    } else if (operation.op === "remove") {
      delete target[last];
    }
  }
  return state;
}
