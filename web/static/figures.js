/* geogrid: the figures page.
 *
 * Reads the figures the page was rendered with (#figures-config), draws the monthly trend and
 * the bar chart per group with Apache ECharts, the choropleth of the second-level grids with
 * Leaflet (no tile server: the grids on a plain background), and sorts the table by a click on
 * a column's header. <html data-figures-charts="1"> and data-figures-map="1" are set once drawn.
 */
(function () {
  "use strict";

  const cfgNode = document.getElementById("figures-config");
  if (!cfgNode) return;
  const cfg = JSON.parse(cfgNode.textContent);
  const L_ = cfg.labels;
  const zh = cfg.lang === "zh";
  const BAR_LIMIT = 15;

  function fmt(v, kind) {
    if (v === null || v === undefined) return "—";
    if (kind === "rate") return (v * 100).toFixed(1) + "%";
    if (kind === "hours") return v.toFixed(1);
    return v.toLocaleString();
  }

  // ------------------------------------------------------------------ the form
  const whole = document.getElementById("whole");
  if (whole) {
    whole.addEventListener("change", () => {
      document.querySelectorAll('#figures-form input[type="month"]').forEach((i) => { i.disabled = whole.checked; });
    });
  }

  // ------------------------------------------------------------------ charts
  const charts = [];
  function trend() {
    const node = document.getElementById("trend-chart");
    if (!node || !window.echarts) return;
    const chart = echarts.init(node, null, { renderer: "canvas" });
    charts.push(chart);
    const months = cfg.months.map((m) => m.month);
    const pct = (k) => cfg.months.map((m) => (m[k] === null ? null : +(m[k] * 100).toFixed(2)));
    chart.setOption({
      animation: false,
      color: ["#9cc3ef", "#0f766e", "#c2570c"],
      tooltip: {
        trigger: "axis",
        valueFormatter: (v) => (v === null || v === undefined ? "—" : String(v)),
      },
      legend: { top: 0, data: [L_.count, L_.closure_rate, L_.on_time_rate] },
      grid: { left: 8, right: 8, top: 40, bottom: months.length > 24 ? 40 : 8, containLabel: true },
      xAxis: { type: "category", data: months },
      yAxis: [
        { type: "value", minInterval: 1 },
        { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      ],
      dataZoom: months.length > 24 ? [{ type: "slider", bottom: 6, height: 18 }] : [],
      series: [
        { name: L_.count, type: "bar", data: cfg.months.map((m) => m.count) },
        { name: L_.closure_rate, type: "line", yAxisIndex: 1, connectNulls: true, symbolSize: 5, data: pct("closure_rate") },
        { name: L_.on_time_rate, type: "line", yAxisIndex: 1, connectNulls: true, symbolSize: 5, data: pct("on_time_rate") },
      ],
    });
  }

  let bars = null;
  function drawBars(figure) {
    const node = document.getElementById("bar-chart");
    if (!node || !window.echarts) return;
    const kind = cfg.kinds[figure];
    const rows = cfg.groups.filter((g) => g[figure] !== null)
      .sort((a, b) => b[figure] - a[figure]).slice(0, BAR_LIMIT).reverse();
    node.style.height = Math.max(300, rows.length * 22 + 40) + "px";
    if (!bars) { bars = echarts.init(node, null, { renderer: "canvas" }); charts.push(bars); }
    bars.resize();
    const value = (g) => (kind === "rate" ? +(g[figure] * 100).toFixed(2) : g[figure]);
    bars.setOption({
      animation: false,
      color: ["#0b6bcb"],
      tooltip: { trigger: "item", formatter: (p) => `${p.name}<br>${L_[figure]}: ${fmt(rows[p.dataIndex][figure], kind)}` },
      grid: { left: 8, right: 56, top: 8, bottom: 24, containLabel: true },
      xAxis: { type: "value", max: kind === "rate" ? 100 : null, axisLabel: { formatter: kind === "rate" ? "{value}%" : "{value}" } },
      yAxis: { type: "category", data: rows.map((g) => g.name), axisLabel: { width: 150, overflow: "truncate" } },
      series: [{
        type: "bar", data: rows.map(value), barMaxWidth: 16,
        label: { show: true, position: "right", formatter: (p) => fmt(rows[p.dataIndex][figure], kind) },
      }],
    }, true);
  }

  // ------------------------------------------------------------------ the map
  const PALETTE = ["#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d"];
  const NO_DATA = "#d5d9de";
  let map = null;
  let layer = null;
  // quantile classes (each colour about as many grids), so that one outlier does not make
  // every other grid the same colour
  function breaksOf(values) {
    const sorted = values.slice().sort((a, b) => a - b);
    const cuts = [];
    for (let i = 1; i < PALETTE.length; i++) {
      const v = sorted[Math.min(sorted.length - 1, Math.floor((i * sorted.length) / PALETTE.length))];
      if (!cuts.length || v > cuts[cuts.length - 1]) cuts.push(v);
    }
    return { lo: sorted[0], hi: sorted[sorted.length - 1], cuts: cuts.filter((c) => c > sorted[0]) };
  }
  function classOf(v, b) {
    let i = 0;
    while (i < b.cuts.length && v >= b.cuts[i]) i++;
    return i;
  }
  function paint(figure) {
    if (!layer) return;
    const kind = cfg.kinds[figure];
    const values = Object.values(cfg.grids).map((g) => g[figure]).filter((v) => v !== null);
    const b = values.length ? breaksOf(values) : null;
    const colours = b ? PALETTE.slice(PALETTE.length - b.cuts.length - 1) : [];
    layer.eachLayer((l) => {
      const g = cfg.grids[l.feature.properties.code];
      const v = g ? g[figure] : null;
      l.setStyle({ fillColor: v === null || v === undefined ? NO_DATA : colours[classOf(v, b)] });
      const name = l.feature.properties.name || l.feature.properties.code;
      l.setTooltipContent(`${name}<br>${L_[figure]}: ${fmt(v, kind)}`);
    });
    const legend = document.getElementById("map-legend");
    if (!legend) return;
    const steps = b ? colours.map((c, i) => {
      const a = i === 0 ? b.lo : b.cuts[i - 1];
      const z = i === b.cuts.length ? b.hi : b.cuts[i];
      const range = i === b.cuts.length ? `${fmt(a, kind)} – ${fmt(z, kind)}` : `${fmt(a, kind)} – < ${fmt(z, kind)}`;
      return `<li><span class="sw" style="background:${c}"></span>${range}</li>`;
    }) : [];
    const none = `<li><span class="sw" style="background:${NO_DATA}"></span>${L_.no_data}</li>`;
    legend.innerHTML = `<strong>${L_[figure]}</strong><ul>${steps.join("")}${none}</ul>`;
  }
  function drawMap() {
    const node = document.getElementById("figures-map");
    if (!node || !window.L) return;
    map = L.map(node, { attributionControl: false, scrollWheelZoom: false, zoomSnap: 0.25 });
    map.setView([32.11, 118.93], 13);
    const get = (url, accept) => fetch(url, { credentials: "same-origin", headers: { Accept: accept } })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))));
    // grouped otherwise than by grid, the grids' figures come from the API
    const figures = cfg.grids ? Promise.resolve(null) : get(cfg.grid_figures_url, "application/json");
    Promise.all([get(cfg.grids_url, "application/geo+json"), figures])
      .then(([fc, answer]) => {
        if (answer) {
          cfg.grids = {};
          answer.groups.forEach((g) => {
            if (g.key) cfg.grids[g.key] = Object.assign({}, g, { name: g.name[cfg.lang] });
          });
        }
        layer = L.geoJSON(fc, {
          style: { color: "#ffffff", weight: 1, fillOpacity: 0.9, className: "figure-grid" },
          onEachFeature: (f, l) => l.bindTooltip("", { sticky: true }),
        }).addTo(map);
        if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [8, 8], animate: false });
        paint(document.getElementById("map-figure").value);
        document.documentElement.dataset.figuresMap = "1";
      })
      .catch(() => { document.documentElement.dataset.figuresMap = "error"; });
  }

  // ------------------------------------------------------------------ the table
  function sortable(table) {
    const heads = table.querySelectorAll("thead th");
    heads.forEach((th, col) => {
      th.tabIndex = 0;
      const sort = () => {
        const asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        const numeric = th.dataset.sort === "num";
        const body = table.tBodies[0];
        const rows = Array.from(body.rows).filter((r) => r.cells.length > col);
        const key = (r) => r.cells[col].dataset.value;
        rows.sort((a, b) => {
          let x = key(a), y = key(b);
          if (numeric) {
            if (x === "" || y === "") return (x === "") - (y === "");  // no value: last
            x = +x; y = +y;
            return asc ? x - y : y - x;
          }
          return asc ? x.localeCompare(y, zh ? "zh-CN" : "en") : y.localeCompare(x, zh ? "zh-CN" : "en");
        });
        rows.forEach((r) => body.appendChild(r));
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
  }

  const table = document.getElementById("figures-table");
  if (table) sortable(table);
  trend();
  const barSelect = document.getElementById("bar-figure");
  drawBars(barSelect ? barSelect.value : "count");
  if (barSelect) barSelect.addEventListener("change", () => drawBars(barSelect.value));
  const mapSelect = document.getElementById("map-figure");
  if (mapSelect) mapSelect.addEventListener("change", () => paint(mapSelect.value));
  drawMap();
  window.addEventListener("resize", () => { charts.forEach((c) => c.resize()); if (map) map.invalidateSize(); });
  if (window.echarts) document.documentElement.dataset.figuresCharts = "1";
})();
