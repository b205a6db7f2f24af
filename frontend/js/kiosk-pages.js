// The question on air, read from the back of the hall: as large as its box allows, never
// smaller than the kiosk's least size for it (hall.css, --kiosk-question-min). A question too
// long to fit whole at that size is shown in pages that turn by themselves, each page a run of
// whole words, with "page 2 of 3" beside it; the operator may turn them too (arrow keys).
//
// The box is the text's parent; it has a fixed size (flex-basis 0 in hall.css), so the fitting
// measures the box's scroll height against its height.

// A page stays up long enough to be read aloud: a base, and a little more per word.
const PAGE_BASE_MS = 4000;
const PAGE_MS_PER_WORD = 280;
const PAGE_MAX_MS = 20000;
// A word longer than this is cut into pieces, so that one piece always fits a line.
const LONGEST_PIECE = 40;

// The text as pieces, each with the whitespace before it: joined back they give the text.
function pieces(text) {
  const out = [];
  for (const match of text.matchAll(/(\s*)(\S+)/g)) {
    const [, space, word] = match;
    for (let start = 0; start < word.length; start += LONGEST_PIECE) {
      out.push({ space: start === 0 ? space : "", word: word.slice(start, start + LONGEST_PIECE) });
    }
  }
  return out;
}

function join(list, from, to) {
  let text = "";
  for (let index = from; index < to; index += 1) {
    text += index === from ? list[index].word : list[index].space + list[index].word;
  }
  return text;
}

export class QuestionPages {
  // text: the element the question goes in; indicator: where "page 2 of 3" goes;
  // pageWords(page, pages): those words.
  constructor({ text, indicator, pageWords }) {
    this.text = text;
    this.box = text.parentElement;
    this.indicator = indicator;
    this.pageWords = pageWords;
    this.full = "";
    this.list = [];
    this.pages = []; // [from, to) piece indexes of each page
    this.page = 0;
    this.timer = null;
  }

  fits() {
    return this.box.scrollHeight <= this.box.clientHeight;
  }

  // The least and the largest size for the question, in px: the least from the style sheet,
  // the largest a tenth of the screen's height (a short question fills the box).
  sizes() {
    this.text.style.fontSize = "";
    const least = Number.parseFloat(getComputedStyle(this.text).fontSize);
    const largest = Math.max(least, Math.round(Math.min(window.innerHeight * 0.1, window.innerWidth * 0.06)));
    return { least, largest };
  }

  show(fullText) {
    this.full = fullText;
    this.list = pieces(fullText);
    this.layout(0);
  }

  clear() {
    clearTimeout(this.timer);
    this.full = "";
    this.list = [];
    this.pages = [];
    this.text.textContent = "";
    this.render();
  }

  // Fit again (the box changed size), keeping on the page that holds the piece shown first.
  refit() {
    if (!this.list.length) return;
    this.layout(this.pages[this.page]?.[0] ?? 0);
  }

  layout(firstPiece) {
    clearTimeout(this.timer);
    const { least, largest } = this.sizes();
    const whole = join(this.list, 0, this.list.length);
    this.text.textContent = whole;
    // The largest size at which the whole question fits, if one at least the least does.
    this.text.style.fontSize = `${least}px`;
    if (this.fits() || this.list.length === 0) {
      let low = least;
      let high = largest;
      this.text.style.fontSize = `${high}px`;
      if (!this.fits()) {
        while (high - low > 1) {
          const middle = Math.floor((low + high) / 2);
          this.text.style.fontSize = `${middle}px`;
          if (this.fits()) low = middle;
          else high = middle;
        }
        this.text.style.fontSize = `${low}px`;
      }
      this.pages = [[0, this.list.length]];
      this.page = 0;
      this.render();
      return;
    }
    // Too long: pages at the least size, each as many whole pieces as fit.
    this.pages = [];
    let from = 0;
    while (from < this.list.length) {
      let low = from + 1; // at least one piece a page, whatever it is
      let high = this.list.length;
      this.text.textContent = join(this.list, from, high);
      if (this.fits()) low = high;
      while (high - low > 0) {
        const middle = Math.ceil((low + high) / 2);
        this.text.textContent = join(this.list, from, middle);
        if (this.fits()) low = middle;
        else high = middle - 1;
      }
      this.pages.push([from, low]);
      from = low;
    }
    this.page = Math.max(0, this.pages.findIndex(([start, end]) => firstPiece >= start && firstPiece < end));
    this.render();
  }

  render() {
    const [from, to] = this.pages[this.page] || [0, 0];
    if (this.list.length) this.text.textContent = join(this.list, from, to);
    const count = this.pages.length;
    this.text.dataset.page = String(this.page + 1);
    this.text.dataset.pages = String(count);
    this.indicator.hidden = count < 2;
    this.indicator.textContent = count < 2 ? "" : this.pageWords(this.page + 1, count);
    clearTimeout(this.timer);
    if (count > 1) {
      const words = to - from;
      const ms = Math.min(PAGE_MAX_MS, PAGE_BASE_MS + PAGE_MS_PER_WORD * words);
      this.timer = setTimeout(() => this.turn(1), ms);
    }
  }

  // The next (1) or previous (-1) page, round.
  turn(step) {
    if (this.pages.length < 2) return false;
    this.page = (this.page + step + this.pages.length) % this.pages.length;
    this.render();
    return true;
  }
}
