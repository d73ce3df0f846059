// Gongkai: a little progressive enhancement. Every page works without it.
(function () {
  "use strict";

  // Selects marked .autosubmit submit their form when changed.
  document.querySelectorAll("select.autosubmit").forEach(function (select) {
    select.addEventListener("change", function () {
      // In a form that also saves (the exemption record), the change re-shows the form through its own button.
      var via = select.dataset.submitWith && select.form.querySelector("button[name=" + select.dataset.submitWith + "]");
      if (via) { select.form.requestSubmit(via); } else { select.form.submit(); }
    });
  });

  // 打印 buttons (hidden without scripts: the browser's own print command does the same).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  var form = document.getElementById("register-form");
  if (!form) { return; }

  // Receipt-date fields by channel (条例第三十一条): mail asks for the sign-for date; plain letter,
  // online and fax ask for the confirmation date.
  var channel = document.getElementById("channel");
  function showChannelFields() {
    var value = channel.value;
    form.querySelectorAll(".channel-mail").forEach(function (el) { el.hidden = value !== "mail"; });
    form.querySelectorAll(".channel-confirm").forEach(function (el) {
      el.hidden = ["plain_letter", "online", "fax"].indexOf(value) < 0;
    });
  }
  channel.addEventListener("change", showChannelFields);
  showChannelFields();

  // A 居民身份证 number is checked in the browser too (18 characters, the last may be X); other papers vary.
  var idType = form.querySelector("select[name=id_type]");
  var idNumber = form.querySelector("input[name=id_number]");
  function idPattern() {
    var cardTypes = (form.dataset.idCardTypes || "").split(",");
    if (cardTypes.indexOf(idType.value) >= 0) { idNumber.setAttribute("pattern", form.dataset.idCardPattern); }
    else { idNumber.removeAttribute("pattern"); }
  }
  if (idType && idNumber) { idType.addEventListener("change", idPattern); idPattern(); }

  // Items: add and remove rows.
  var items = document.getElementById("items");
  function renumber() {
    items.querySelectorAll(".item-row").forEach(function (row, i) {
      row.querySelector(".item-no").textContent = String(i + 1);
    });
  }
  document.getElementById("add-item").addEventListener("click", function () {
    var rows = items.querySelectorAll(".item-row");
    var copy = rows[rows.length - 1].cloneNode(true);
    copy.querySelector("textarea").value = "";
    copy.querySelector("select").selectedIndex = 0;
    items.appendChild(copy);
    renumber();
    copy.querySelector("textarea").focus();
  });
  items.addEventListener("click", function (event) {
    if (!event.target.classList.contains("remove-item")) { return; }
    if (items.querySelectorAll(".item-row").length > 1) {
      event.target.closest(".item-row").remove();
      renumber();
    }
  });

  // Live duplicate warning (条例第三十六条第（六）项): earlier similar requests of the same applicant.
  var box = document.getElementById("duplicates");
  var timer = null;
  function value(name) {
    var el = form.querySelector("[name='" + name + "']");
    return el ? el.value : "";
  }
  function check() {
    var texts = Array.prototype.map.call(form.querySelectorAll("textarea[name='item_description']"),
      function (t) { return t.value; });
    var body = { applicant_kind: value("applicant_kind"), name: value("name"), id_number: value("id_number"),
      phone: value("phone"), email: value("email"), items: texts };
    fetch(form.dataset.duplicatesUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": form.dataset.csrf },
      body: JSON.stringify(body)
    }).then(function (r) { return r.ok ? r.json() : { duplicates: [] }; }).then(function (data) {
      var found = data.duplicates || [];
      box.textContent = "";
      if (!found.length) { box.hidden = true; return; }
      var title = document.createElement("b");
      title.textContent = "可能是重复申请：该申请人此前提出过相似的申请（条例第三十六条第（六）项）";
      box.appendChild(title);
      var list = document.createElement("ul");
      found.forEach(function (d) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = d.url; a.target = "_blank"; a.rel = "noopener";
        a.textContent = d.reg_no;
        li.appendChild(a);
        li.appendChild(document.createTextNode("（" + (d.received_on || "未确认") + "，相似度 " +
          Math.round(d.similarity * 100) + "%" + (d.reply_number ? "，已答复 " + d.reply_number : "") + "）：" + d.item));
        list.appendChild(li);
      });
      box.appendChild(list);
      box.hidden = false;
    }).catch(function () { box.hidden = true; });
  }
  form.addEventListener("input", function (event) {
    if (!event.target.name) { return; }
    clearTimeout(timer);
    timer = setTimeout(check, 500);
  });
})();

// Live preview of an agency's letter wording: the sample letter re-rendered as the administrator types.
(function () {
  var form = document.getElementById("wording-form");
  var target = document.getElementById("wording-preview");
  if (!form || !target) { return; }
  var timer = null;
  function refresh() {
    var body = new FormData(form);
    body.delete("action");
    fetch(form.dataset.previewUrl, { method: "POST", credentials: "same-origin", body: body })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        // The fragment is our own template's output, every text in it escaped by Jinja.
        if (html !== null) { target.innerHTML = html; }
      }).catch(function () { /* keep the last preview */ });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
})();
