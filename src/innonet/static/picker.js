// Searchable pickers. A field marked data-picker becomes a search box with the chosen
// entries shown as removable chips:
//   <input data-picker="organisations" [data-multiple]>: organisations found by name as you
//     type (the directory's API); the field keeps their ids, separated by spaces;
//   <select multiple data-picker>: the select's own options (a long list of countries).
// data-suggest='[{"value": id, "label": name, "hint": why}]' lists proposals before anything
// is typed. Without JavaScript the plain field stays and works.
(function () {
  "use strict";
  let pickers = 0;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function findOrganisations(text) {
    const query = text.trim();
    if (query.length < 2) return [];
    const answer = await fetch(`/api/v1/orgs?per_page=8&q=${encodeURIComponent(query)}`,
      {headers: {Accept: "application/json"}});
    if (!answer.ok) return [];
    const page = await answer.json();
    return page.items.map((o) => ({
      value: o.external_id, label: o.name,
      hint: [o.country, o.external_id].filter(Boolean).join(" · "),
    }));
  }

  async function organisationNamed(id) {
    const found = await findOrganisations(id).catch(() => []);
    return found.find((o) => o.value === id) || {value: id, label: id, hint: ""};
  }

  function optionsOf(select) {
    return Array.from(select.options).map((o) => ({value: o.value, label: o.textContent.trim(), hint: ""}));
  }

  function folded(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  async function build(field) {
    const isSelect = field.tagName === "SELECT";
    const multiple = isSelect ? field.multiple : field.hasAttribute("data-multiple");
    const number = ++pickers;
    const label = field.id ? document.querySelector(`label[for="${field.id}"]`) : null;
    const name = label ? label.textContent.replace("*", "").trim() : "Chosen";
    const suggestions = JSON.parse(field.dataset.suggest || "[]");
    let chosen = [];
    let found = [];
    let active = -1;

    const box = element("div", "picker");
    const chips = element("ul", "picker-chips");
    chips.setAttribute("aria-label", `${name}: chosen`);
    const search = element("input", "picker-search");
    search.type = "text";
    search.autocomplete = "off";
    search.id = `${field.id || "picker"}-search-${number}`;
    search.placeholder = field.dataset.placeholder || "Type a name…";
    const list = element("ul", "picker-options");
    list.id = `picker-options-${number}`;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", name);
    list.hidden = true;
    search.setAttribute("role", "combobox");
    search.setAttribute("aria-autocomplete", "list");
    search.setAttribute("aria-expanded", "false");
    search.setAttribute("aria-controls", list.id);
    for (const attribute of ["aria-describedby", "aria-invalid"]) {
      if (field.hasAttribute(attribute)) search.setAttribute(attribute, field.getAttribute(attribute));
    }
    if (label) label.htmlFor = search.id;
    const status = element("span", "visually-hidden");
    status.setAttribute("aria-live", "polite");  // says what was chosen or removed
    box.append(chips, search, list, status);
    field.after(box);
    if (isSelect) {
      field.hidden = true;
      field.tabIndex = -1;
    } else {
      field.type = "hidden";
    }

    function save() {
      field.pickerChosen = chosen;  // another picker may propose these (data-suggest-from)
      if (isSelect) {
        const values = new Set(chosen.map((c) => c.value));
        for (const option of field.options) option.selected = values.has(option.value);
      } else {
        field.value = chosen.map((c) => c.value).join(" ");
      }
      field.dispatchEvent(new Event("change", {bubbles: true}));
    }

    function drawChips() {
      chips.replaceChildren(...chosen.map((entry) => {
        const chip = element("li", "picker-chip");
        chip.append(element("span", "", entry.label));
        const remove = element("button", "picker-remove", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", `Remove ${entry.label}`);
        remove.addEventListener("click", () => {
          chosen = chosen.filter((c) => c.value !== entry.value);
          drawChips();
          save();
          status.textContent = `${entry.label} removed`;
          search.focus();
        });
        chip.append(remove);
        return chip;
      }));
      chips.hidden = chosen.length === 0;
    }

    function close() {
      list.hidden = true;
      active = -1;
      search.setAttribute("aria-expanded", "false");
      search.removeAttribute("aria-activedescendant");
    }

    function drawOptions(entries, emptyText) {
      found = entries.filter((e) => !chosen.some((c) => c.value === e.value));
      active = found.length ? 0 : -1;
      list.replaceChildren(...found.map((entry, index) => {
        const option = element("li", "picker-option");
        option.id = `${list.id}-${index}`;
        option.setAttribute("role", "option");
        option.append(element("span", "", entry.label));
        if (entry.hint) option.append(element("small", "muted", ` ${entry.hint}`));
        option.addEventListener("mousedown", (event) => event.preventDefault());
        option.addEventListener("click", () => choose(entry));
        return option;
      }));
      if (!found.length && emptyText) {
        const empty = element("li", "picker-empty muted", emptyText);
        empty.setAttribute("aria-disabled", "true");
        list.append(empty);
      }
      list.hidden = list.children.length === 0;
      search.setAttribute("aria-expanded", String(!list.hidden));
      highlight();
    }

    function highlight() {
      Array.from(list.querySelectorAll("[role=option]")).forEach((option, index) => {
        option.setAttribute("aria-selected", String(index === active));
      });
      if (active >= 0) {
        search.setAttribute("aria-activedescendant", `${list.id}-${active}`);
        list.children[active].scrollIntoView({block: "nearest"});
      } else {
        search.removeAttribute("aria-activedescendant");
      }
    }

    function choose(entry) {
      chosen = multiple ? [...chosen, entry] : [entry];
      drawChips();
      save();
      status.textContent = `${entry.label} chosen`;
      search.value = "";
      close();
    }

    let asked = 0;
    async function update() {
      const text = search.value;
      const ask = ++asked;
      if (!text.trim()) {
        const source = field.dataset.suggestFrom && document.getElementById(field.dataset.suggestFrom);
        const proposed = ((source && source.pickerChosen) || [])
          .map((entry) => ({...entry, hint: field.dataset.suggestHint || "the relationship's partner"}));
        const others = suggestions.filter((s) => !proposed.some((p) => p.value === s.value));
        drawOptions([...proposed, ...others], "");
        return;
      }
      const entries = isSelect
        ? optionsOf(field).filter((o) => folded(o.label).includes(folded(text))).slice(0, 50)
        : await findOrganisations(text).catch(() => []);
      if (ask === asked) drawOptions(entries, isSelect || text.trim().length >= 2 ? "Nothing found" : "Type two letters or more");
    }

    let timer = null;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(update, isSelect ? 0 : 200);
    });
    search.addEventListener("focus", () => { if (!search.value) update(); });
    search.addEventListener("blur", () => setTimeout(close, 100));
    search.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) { update(); return; }
        const step = event.key === "ArrowDown" ? 1 : -1;
        active = found.length ? (active + step + found.length) % found.length : -1;
        highlight();
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();  // choosing is not sending the form
        choose(found[active]);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      } else if (event.key === "Backspace" && !search.value && chosen.length) {
        const last = chosen[chosen.length - 1];
        chosen = chosen.slice(0, -1);
        drawChips();
        save();
        status.textContent = `${last.label} removed`;
      }
    });

    if (isSelect) {
      chosen = optionsOf(field).filter((o) => field.querySelector(`option[value="${CSS.escape(o.value)}"]`).selected);
    } else {
      const ids = field.value.split(/[\s,]+/).filter(Boolean);
      chosen = await Promise.all(ids.map(organisationNamed));
    }
    field.pickerChosen = chosen;
    drawChips();
  }

  function start(root) {
    root.querySelectorAll("[data-picker]:not([data-picked])").forEach((field) => {
      field.setAttribute("data-picked", "");
      build(field);
    });
  }
  document.addEventListener("DOMContentLoaded", () => start(document));
  document.addEventListener("htmx:afterSwap", (event) => start(event.target));
})();
