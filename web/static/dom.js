// Small helpers every geogrid page script uses: window.GeogridDom = { fmt, el }.
//   fmt("%(n)s 个", { n: 3 })  → "3 个" (the catalogue's %(name)s placeholders);
//   el("div", "class", "text") → an element whose text is set with textContent only.
(function () {
  "use strict";

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, (whole, key) => (key in values ? String(values[key]) : whole));
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  window.GeogridDom = { fmt: fmt, el: el };
})();
