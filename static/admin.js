/* kiji admin: small enhancements; everything works without them.
 * - a "select all" checkbox (data-select-all) ticks the list's boxes;
 * - buttons with data-confirm ask before submitting. */
(function () {
  "use strict";
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (!t.matches || !t.matches("input[data-select-all]")) return;
    var form = t.form;
    if (!form) return;
    var boxes = form.querySelectorAll("input[type=checkbox][name=id]");
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = t.checked;
  });
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("[data-confirm]") : null;
    if (b && !window.confirm(b.getAttribute("data-confirm"))) e.preventDefault();
  });
})();

/* The article editor and the media library (articles.c, media.c):
 * - 参考 rows get remove / up / down buttons and an "add a row" button,
 *   their order fields renumbered (without JS the order fields and the
 *   empty rows do the same);
 * - picking a library image fills the eyecatch URL;
 * - a live preview: the form (without its file) posted to the preview
 *   route as you type, the answer shown in a frame;
 * - a copy button beside each library URL and Markdown snippet. */
(function () {
  "use strict";
  document.documentElement.classList.add("has-js");

  function button(label, cls) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = label;
    return b;
  }

  var box = document.getElementById("sources");
  if (box) {
    var list = box.querySelector(".source-rows");
    var renumber = function () {
      var rows = list.querySelectorAll(".source-row");
      for (var i = 0; i < rows.length; i++) {
        var o = rows[i].querySelector("input[name=src_order]");
        if (o) o.value = String(i + 1);
      }
    };
    var tools = function (row) {
      if (row.querySelector(".row-tools")) return;
      var t = document.createElement("div");
      t.className = "row-tools";
      t.append(button("↑", "row-up"), button("↓", "row-down"),
        button(box.dataset.remove, "row-remove"));
      t.querySelector(".row-up").setAttribute("aria-label", box.dataset.up);
      t.querySelector(".row-down").setAttribute("aria-label", box.dataset.down);
      row.append(t);
    };
    list.querySelectorAll(".source-row").forEach(tools);
    var add = button(box.dataset.add, "add-row");
    box.append(add);
    add.addEventListener("click", function () {
      var last = list.querySelector(".source-row:last-child");
      var row = last.cloneNode(true);
      row.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      list.append(row);
      renumber();
      row.querySelector("input[name=src_title]").focus();
    });
    list.addEventListener("click", function (e) {
      var b = e.target.closest("button");
      if (!b) return;
      var row = b.closest(".source-row");
      if (b.classList.contains("row-remove")) {
        if (list.querySelectorAll(".source-row").length > 1) row.remove();
        else row.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      } else if (b.classList.contains("row-up") && row.previousElementSibling) {
        list.insertBefore(row, row.previousElementSibling);
      } else if (b.classList.contains("row-down") && row.nextElementSibling) {
        list.insertBefore(row.nextElementSibling, row);
      }
      renumber();
      if (window.kijiLivePreview) window.kijiLivePreview();
    });
    renumber();
  }

  var url = document.getElementById("e-eyecatch");
  document.addEventListener("change", function (e) {
    var r = e.target;
    if (!url || r.name !== "eyecatch_pick" || !r.value) return;
    url.value = r.value;
  });

  var form = document.getElementById("editor");
  if (form && window.fetch && window.FormData) {
    var frame = null, timer = 0, busy = false, again = false;
    var refresh = function () {
      if (!frame) return;
      if (busy) { again = true; return; }
      busy = true;
      var data = new FormData(form);
      data.delete("eyecatch_file");
      fetch("/admin/articles/preview", { method: "POST", body: data,
        credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) { frame.srcdoc = html; })
        .catch(function () {})
        .then(function () {
          busy = false;
          if (again) { again = false; refresh(); }
        });
    };
    window.kijiLivePreview = function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 800);
    };
    var toggle = button(form.dataset.live, "live-toggle");
    toggle.setAttribute("aria-expanded", "false");
    var buttons = form.querySelector(".editor-buttons");
    if (buttons) buttons.append(toggle);
    toggle.addEventListener("click", function () {
      if (frame) {
        frame.parentNode.remove();
        frame = null;
        toggle.setAttribute("aria-expanded", "false");
        return;
      }
      toggle.setAttribute("aria-expanded", "true");
      var sec = document.createElement("section");
      sec.className = "live-preview";
      frame = document.createElement("iframe");
      frame.title = form.dataset.live;
      sec.append(frame);
      form.after(sec);
      refresh();
    });
    form.addEventListener("input", window.kijiLivePreview);
    form.addEventListener("change", window.kijiLivePreview);
  }

  document.querySelectorAll("input.copy").forEach(function (i) {
    i.addEventListener("focus", function () { i.select(); });
    if (!navigator.clipboard) return;
    var b = button(document.documentElement.lang === "en" ? "Copy" : "コピー", "copy-button");
    b.addEventListener("click", function () {
      navigator.clipboard.writeText(i.value).catch(function () {});
    });
    i.after(b);
  });
})();
