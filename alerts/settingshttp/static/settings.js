// The Email Alerts settings page. The page holds the user's draft; the
// settings API of package settingshttp computes the bulk edits and saves.
// Plain JavaScript, no build step: every text goes in with textContent.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const main = $("settings");
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const api = "api/settings";
  const switches = [...document.querySelectorAll('button[role="switch"][data-category]')];
  const allSwitch = $("enable-all");
  const saveButton = $("save");
  const status = $("status");
  const conflict = $("conflict");
  const panel = $("recipients-panel");
  const manage = $("manage");
  const list = $("recipients");
  const rowTemplate = $("recipient-row");
  const recipientsError = $("recipients-error");
  const dialog = $("confirm");
  const maxRecipients = Number(main.dataset.maxRecipients);

  // base is the settings as the server holds them (as last loaded or
  // saved); the switches and the recipient inputs are the draft.
  let base = {
    version: Number(main.dataset.version),
    categories: readCategories(),
    recipients: [...list.querySelectorAll("input")].map((i) => i.value),
  };
  // The categories the open dialog's "Yes" applies.
  let pending = null;

  function readCategories() {
    const cats = {};
    for (const s of switches) cats[s.dataset.category] = s.getAttribute("aria-checked") === "true";
    return cats;
  }

  // The recipient inputs that hold an address, in order: what Save sends.
  function filledInputs() {
    return [...list.querySelectorAll("input")].filter((i) => i.value.trim() !== "");
  }

  function readRecipients() {
    return filledInputs().map((i) => i.value.trim());
  }

  function sameList(a, b) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }

  function changed() {
    const cats = readCategories();
    return switches.some((s) => cats[s.dataset.category] !== base.categories[s.dataset.category]) ||
      !sameList(readRecipients(), base.recipients);
  }

  // refresh brings what depends on the draft up to date: Enable all, Save
  // and the recipients' summary.
  function refresh() {
    const cats = readCategories();
    allSwitch.setAttribute("aria-checked", String(switches.every((s) => cats[s.dataset.category])));
    saveButton.disabled = !changed();
    const n = readRecipients().length;
    $("recipients-summary").textContent = `${n} of at most ${maxRecipients} addresses receive the alerts.`;
    $("add-recipient").disabled = list.children.length >= maxRecipients;
  }

  function showCategories(cats) {
    for (const s of switches) {
      if (s.dataset.category in cats) s.setAttribute("aria-checked", String(cats[s.dataset.category]));
    }
    refresh();
  }

  function say(text) {
    status.textContent = text;
  }

  // Recipients.

  function addRow(value) {
    const row = rowTemplate.content.firstElementChild.cloneNode(true);
    const input = row.querySelector("input");
    input.value = value;
    input.addEventListener("input", () => {
      clearRecipientError();
      refresh();
    });
    row.querySelector(".remove").addEventListener("click", () => {
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      number();
      refresh();
      (next ? next.querySelector("input") : $("add-recipient")).focus();
    });
    list.append(row);
    return input;
  }

  // number labels each row by its position.
  function number() {
    [...list.children].forEach((row, i) => {
      const id = `recipient-${i + 1}`;
      const input = row.querySelector("input");
      input.id = id;
      const label = row.querySelector("label");
      label.htmlFor = id;
      label.textContent = `Recipient ${i + 1}`;
      row.querySelector(".remove").setAttribute("aria-label", `Remove recipient ${i + 1}`);
    });
  }

  function showRecipients(addresses) {
    list.replaceChildren();
    for (const a of addresses) addRow(a);
    number();
    refresh();
  }

  function clearRecipientError() {
    recipientsError.hidden = true;
    recipientsError.textContent = "";
    for (const i of list.querySelectorAll("input")) i.removeAttribute("aria-invalid");
  }

  function openPanel(open) {
    panel.hidden = !open;
    manage.setAttribute("aria-expanded", String(open));
  }

  // The API.

  async function call(method, path, body, headers = {}) {
    const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
    if (method !== "GET") init.headers["X-CSRF-Token"] = csrfToken;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch {
      return { res: { ok: false, status: 0, statusText: "the server could not be reached" }, data: null };
    }
    let data = null;
    try {
      data = await res.json();
    } catch {
      // No JSON body: the status says it all.
    }
    return { res, data };
  }

  // showProblem shows why a request failed; a refused recipient is named
  // and focused.
  function showProblem(res, data, doing) {
    const detail = (data && data.detail) || res.statusText || `error ${res.status}`;
    for (const e of (data && data.errors) || []) {
      const m = /^#\/recipients\/(\d+)$/.exec(e.pointer || "");
      if (!m) continue;
      const input = filledInputs()[Number(m[1])];
      if (!input) continue;
      openPanel(true);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "recipients-error");
      recipientsError.textContent = `${input.labels[0].textContent}, “${input.value.trim()}”: ${e.detail}. Nothing was saved.`;
      recipientsError.hidden = false;
      input.focus();
      say("Not saved.");
      return;
    }
    say(`${doing}: ${detail}`);
  }

  function draftDocument() {
    return { version: base.version, categories: readCategories() };
  }

  // Enable all, with its "Yes" dialog.

  allSwitch.addEventListener("click", async () => {
    const op = allSwitch.getAttribute("aria-checked") === "true" ? "disable-all" : "enable-all";
    const { res, data } = await call("POST", `${api}/${op}`, draftDocument());
    if (!res.ok) {
      showProblem(res, data, "Could not prepare the change");
      return;
    }
    $("confirm-heading").textContent = op === "enable-all" ? "Enable all alerts?" : "Disable all alerts?";
    const items = data.change.flips.map((f) => {
      const li = document.createElement("li");
      li.textContent = `Turn ${f.enabled ? "on" : "off"} ${f.name}`;
      return li;
    });
    if (items.length === 0) {
      const li = document.createElement("li");
      li.textContent = "Nothing: every category is already so.";
      items.push(li);
    }
    $("confirm-list").replaceChildren(...items);
    pending = data.draft.categories;
    dialog.returnValue = "";
    dialog.showModal();
    $(op === "enable-all" ? "confirm-yes" : "confirm-cancel").focus();
  });
  $("confirm-yes").addEventListener("click", () => dialog.close("yes"));
  $("confirm-cancel").addEventListener("click", () => dialog.close("cancel"));
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "yes" && pending) {
      showCategories(pending);
      say("Changed on this page. Save to apply.");
    } else {
      say("Nothing changed.");
    }
    pending = null;
    allSwitch.focus();
  });

  // The other controls.

  for (const s of switches) {
    s.addEventListener("click", () => {
      s.setAttribute("aria-checked", String(s.getAttribute("aria-checked") !== "true"));
      say("");
      refresh();
    });
  }

  $("reset").addEventListener("click", async () => {
    const { res, data } = await call("POST", `${api}/reset`, draftDocument());
    if (!res.ok) {
      showProblem(res, data, "Could not reset");
      return;
    }
    showCategories(data.draft.categories);
    say(data.change.flips.length ? "Categories back to their defaults. Save to apply." : "The categories are at their defaults.");
  });

  manage.addEventListener("click", () => {
    const open = panel.hidden;
    openPanel(open);
    if (open) (list.querySelector("input") || $("add-recipient")).focus();
  });

  $("add-recipient").addEventListener("click", () => {
    const input = addRow("");
    number();
    refresh();
    input.focus();
  });

  saveButton.addEventListener("click", async () => {
    clearRecipientError();
    saveButton.disabled = true;
    say("Saving…");
    const body = { categories: readCategories(), recipients: readRecipients() };
    const { res, data } = await call("PUT", api, body, { "If-Match": `"${base.version}"` });
    if (res.ok) {
      base = { version: data.version, categories: data.categories, recipients: data.recipients };
      main.dataset.version = String(data.version);
      conflict.hidden = true;
      showRecipients(data.recipients);
      say("Saved.");
      return;
    }
    refresh();
    if (res.status === 412) {
      conflict.hidden = false;
      say("Not saved: changed by someone else.");
      $("reload").focus();
      return;
    }
    showProblem(res, data, "Not saved");
  });

  // Reload after a conflict: the latest settings, with the user's own
  // changes applied on top, to check and save again.
  $("reload").addEventListener("click", async () => {
    const { res, data } = await call("GET", api);
    if (!res.ok) {
      showProblem(res, data, "Could not reload");
      return;
    }
    const mine = readCategories();
    const cats = { ...data.categories };
    for (const id of Object.keys(mine)) {
      if (mine[id] !== base.categories[id]) cats[id] = mine[id];
    }
    const recipients = readRecipients();
    const keepRecipients = !sameList(recipients, base.recipients);
    base = { version: data.version, categories: data.categories, recipients: data.recipients };
    main.dataset.version = String(data.version);
    conflict.hidden = true;
    showCategories(cats);
    if (!keepRecipients) showRecipients(data.recipients);
    say(changed()
      ? `Reloaded version ${data.version}, with your changes on top. Save to apply them.`
      : `Reloaded version ${data.version}; it already has your changes.`);
    (saveButton.disabled ? allSwitch : saveButton).focus();
  });

  showRecipients(base.recipients);
})();
