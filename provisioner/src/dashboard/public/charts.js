// SVG charts of the operator dashboard: a line chart of samples over time and a bar chart.
// Plain DOM, no library; every element is made with createElementNS and text goes in as text.

const SVG = 'http://www.w3.org/2000/svg';
const PALETTE = ['#1f6feb', '#d9480f', '#2f9e44', '#ae3ec9', '#e8590c', '#0c8599', '#c2255c', '#5c940d'];

/** A stable colour per name (same app, same colour in every chart). */
export function colourOf(name) {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length];
}

function el(name, attributes = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A round upper bound for an axis: 1, 2 or 5 times a power of ten, at least `value`. */
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * The `d` of a line through `values` (null leaves a gap), the newest sample at the right edge of a
 * `width` x `height` box holding `slots` samples, 0 at the bottom and `max` at the top.
 */
export function linePath(values, { width, height, slots, max }) {
  const step = slots > 1 ? width / (slots - 1) : 0;
  const offset = slots - values.length;
  let d = '';
  let drawing = false;
  values.forEach((value, i) => {
    if (value === null || value === undefined || Number.isNaN(value)) {
      drawing = false;
      return;
    }
    const x = (offset + i) * step;
    const y = height - (Math.min(value, max) / max) * height;
    d += `${drawing ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)} `;
    drawing = true;
  });
  return d.trim();
}

const PAD = { left: 56, right: 10, top: 10, bottom: 22 };

function frame(svg, max, unit) {
  const width = Number(svg.getAttribute('width'));
  const height = Number(svg.getAttribute('height'));
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const inner = { width: width - PAD.left - PAD.right, height: height - PAD.top - PAD.bottom };
  const grid = el('g', { class: 'grid', transform: `translate(${PAD.left},${PAD.top})` });
  for (const fraction of [0, 0.5, 1]) {
    const y = inner.height - fraction * inner.height;
    grid.append(el('line', { x1: 0, x2: inner.width, y1: y, y2: y }));
    grid.append(el('text', { x: -6, y: y + 4, 'text-anchor': 'end' }, `${+(max * fraction).toFixed(2)}${unit}`));
  }
  svg.append(grid);
  const plot = el('g', { class: 'plot', transform: `translate(${PAD.left},${PAD.top})` });
  svg.append(plot);
  return { plot, inner };
}

/**
 * Draws one line per series over its last samples (at most `slots`; fewer fill the width until
 * there are that many) into `svg` (its width and height attributes give the size) and writes a
 * legend into `legend`.
 */
export function drawLineChart(svg, legend, series, { slots, unit = '', every = '' }) {
  const peak = Math.max(0, ...series.flatMap((s) => s.values.filter((v) => typeof v === 'number')));
  const max = niceMax(peak);
  const { plot, inner } = frame(svg, max, unit);
  const shown = Math.min(Math.max(2, ...series.map((s) => s.values.length)), slots);
  const size = { width: inner.width, height: inner.height, slots: shown, max };
  const caption = `last ${shown} samples${every ? `, one every ${every}` : ''}`;
  plot.append(el('text', { x: inner.width, y: inner.height + 16, 'text-anchor': 'end' }, caption));
  for (const s of series) {
    const d = linePath(s.values.slice(-shown), size);
    if (d) plot.append(el('path', { d, stroke: colourOf(s.name), 'data-series': s.name, class: 'line' }));
  }
  if (series.length === 0) {
    plot.append(el('text', { x: inner.width / 2, y: inner.height / 2, 'text-anchor': 'middle' }, 'no data yet'));
  }
  drawLegend(
    legend,
    series.map((s) => ({ name: s.name, colour: colourOf(s.name) })),
  );
}

/** Draws one horizontal bar per entry ({label, value, colour?}) into `svg`. */
export function drawBarChart(svg, bars, { unit = '' } = {}) {
  const max = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const { plot, inner } = frame(svg, max, unit);
  svg.querySelector('.grid')?.replaceChildren();
  if (bars.length === 0) {
    plot.append(el('text', { x: inner.width / 2, y: inner.height / 2, 'text-anchor': 'middle' }, 'no rejections'));
    return;
  }
  const row = inner.height / bars.length;
  bars.forEach((bar, i) => {
    const y = i * row + row * 0.15;
    const w = Math.max((bar.value / max) * (inner.width - 120), bar.value > 0 ? 2 : 0);
    plot.append(el('text', { x: 0, y: y + row * 0.45, class: 'bar-label' }, bar.label));
    plot.append(
      el('rect', {
        x: 110,
        y,
        width: w.toFixed(1),
        height: (row * 0.7).toFixed(1),
        fill: bar.colour ?? colourOf(bar.label),
        class: 'bar',
        'data-label': bar.label,
      }),
    );
    plot.append(el('text', { x: 114 + w, y: y + row * 0.45, class: 'bar-value' }, `${bar.value}${unit}`));
  });
}

function drawLegend(legend, entries) {
  legend.replaceChildren(
    ...entries.map(({ name, colour }) => {
      const item = document.createElement('span');
      const swatch = document.createElement('i');
      swatch.style.background = colour;
      item.append(swatch, document.createTextNode(name));
      return item;
    }),
  );
}
