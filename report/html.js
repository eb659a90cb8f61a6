"use strict";
// Filtering and sorting of the host table, whose hosts are each a tbody (a
// row, and a row of findings). The report reads in full without this
// script: the controls stay hidden until it runs.
(function () {
  var table = document.getElementById("hosts");
  var form = document.getElementById("controls");
  if (!table || !form) {
    return;
  }
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody.host"));
  var filter = document.getElementById("filter");
  var shown = document.getElementById("shown");
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=status]"));
  form.hidden = false;

  function apply() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var want = {};
    boxes.forEach(function (b) { want[b.value] = b.checked; });
    var n = 0;
    rows.forEach(function (r) {
      var text = r.getAttribute("data-search") || "";
      var ok = want[r.getAttribute("data-status")] === true &&
        words.every(function (w) { return text.indexOf(w) >= 0; });
      r.hidden = !ok;
      if (ok) { n++; }
    });
    shown.textContent = "Showing " + n + " of " + rows.length + " hosts";
  }
  filter.addEventListener("input", apply);
  boxes.forEach(function (b) { b.addEventListener("change", apply); });

  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  function key(group, i) {
    var c = group.rows[0].cells[i];
    var v = c.getAttribute("data-sort");
    return v === null ? c.textContent.trim() : v;
  }
  heads.forEach(function (th, i) {
    var button = th.querySelector("button");
    if (!button) {
      return;
    }
    button.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var num = th.getAttribute("data-type") === "num";
      rows.sort(function (a, b) {
        var x = key(a, i), y = key(b, i), d;
        if (num) {
          d = parseFloat(x) - parseFloat(y);
        } else {
          d = x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
        }
        if (d === 0) {
          d = key(a, 0).localeCompare(key(b, 0), undefined, { numeric: true });
        }
        return asc ? d : -d;
      });
      rows.forEach(function (r) { table.appendChild(r); });
    });
  });

  // Print every finding: open the details before printing, restore after.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = Array.prototype.slice.call(document.querySelectorAll("details:not([open])"));
    opened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
  apply();
})();
