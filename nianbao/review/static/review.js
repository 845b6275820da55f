// Keyboard first: every action on a page has a key; typing a number starts a correction.
(function () {
  "use strict";
  function inBox(e) {
    var t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT");
  }
  function submitAs(action) {
    var form = document.getElementById("correct");
    if (!form) return;
    document.getElementById("action").value = action;
    form.submit();
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-action]");
    if (b) document.getElementById("action").value = b.getAttribute("data-action");
  });
  var rows = Array.prototype.slice.call(document.querySelectorAll("#queue tr.item"));
  var at = 0;
  function move(by) {
    if (!rows.length) return;
    rows[at].classList.remove("current");
    at = Math.max(0, Math.min(rows.length - 1, at + by));
    rows[at].classList.add("current");
    rows[at].scrollIntoView({ block: "nearest" });
  }
  var grid = document.getElementById("grid-form");
  if (grid) {
    grid.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.target.blur(); e.preventDefault(); }
    });
  }
  var value = document.getElementById("new-value");
  if (value) {
    value.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { value.blur(); e.preventDefault(); }
    });
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || inBox(e)) return;
    var k = e.key;
    if (rows.length) {
      if (k === "j" || k === "ArrowDown") { move(1); e.preventDefault(); }
      else if (k === "k" || k === "ArrowUp") { move(-1); e.preventDefault(); }
      else if (k === "Enter") { window.location = rows[at].getAttribute("data-href"); }
      return;
    }
    if (value && /^[0-9.]$/.test(k)) { value.focus(); return; }  // the key lands in the box
    if (k === "a") submitAs("accept");
    else if (k === "b") submitAs("blank");
    else if (k === "d" || k === "/") { e.preventDefault(); submitAs("dash"); }
    else if (k === "s") submitAs("skip");
    else if (k === "n") { var n = document.getElementById("next"); if (n) window.location = n.href; }
    else if (k === "g") { var first = document.querySelector("#grid td.this input, #grid input[name^='cell:']"); if (first) { first.focus(); first.select(); e.preventDefault(); } }
    else if (/^[1-5]$/.test(k)) {
      var f = document.querySelector("form.repair[data-key='" + k + "']");
      if (f) f.submit();
    }
  });
})();
