// Small DOM helpers. Text always goes in as text (textContent), never as markup: questions
// and names come from voters and must not become HTML. Styles go in as properties (an object,
// { width: "40%" }): the Content-Security-Policy refuses style attributes.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "style") Object.assign(element.style, value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function bound(name, root = document) {
  return root.querySelector(`[data-bind="${name}"]`);
}

export function setText(name, text, root = document) {
  const element = bound(name, root);
  if (element) element.textContent = text;
}

export function pageConfig() {
  return JSON.parse(document.getElementById("page-config").textContent);
}

export function toast(message, kind = "info") {
  const element = bound("toast");
  if (!element) return;
  element.textContent = message;
  element.dataset.kind = kind;
  element.hidden = false;
  clearTimeout(element.hideTimer);
  element.hideTimer = setTimeout(() => { element.hidden = true; }, 5000);
}
