// Translations come from Django's JavaScript catalogue (/jsi18n/), loaded before the modules.
export const _ = (text) => (window.gettext ? window.gettext(text) : text);
export const fmt = (text, values) =>
  window.interpolate ? window.interpolate(_(text), values, true) : _(text);
export const lang = () => document.documentElement.lang || "vi";
