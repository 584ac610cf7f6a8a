// Tiny DOM helpers shared by the console and the end-user pages. Text is
// always set through text nodes (textContent), never parsed as markup:
// everything an agent reports is untrusted (docs/ui.md).

/** Child is what h() accepts as content: text, a node, or nothing. */
export type Child = string | number | Node | null | undefined | false | Child[];

/** Attrs are attributes and a few properties for h(). */
export type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/**
 * h creates an element. Attributes whose value is a function and whose
 * name starts with "on" become event listeners; true sets a boolean
 * attribute, false/null/undefined leaves it out. Strings among the
 * children become text nodes.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === "function") {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (k === "value" && "value" in el) {
      (el as HTMLInputElement).value = String(v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

/** append adds children to el; strings become text nodes. */
export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** replace swaps el's children for the given ones. */
export function replace(el: Node, ...children: Child[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
}

/** byId returns the element with id, or throws: the page's markup is ours. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error("missing element #" + id);
  return el as T;
}
