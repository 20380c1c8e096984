"""The words of network science a page uses, each explained in a sentence a manager reads
(shown on hover and focus, see :func:`term`) and listed on the methods page (/methods)."""

import functools
import itertools
import re
from importlib.resources import files

from markdown_it import MarkdownIt
from markupsafe import Markup, escape

GLOSSARY: dict[str, tuple[str, str]] = {
    # key: (the term, what it means in plain words)
    "blau": ("Blau index", "How evenly the partners spread over the kinds of partner "
             "(customers, suppliers, universities …): 0 when all are of one kind, higher "
             "when they are spread over many."),
    "hhi": ("HHI (Herfindahl–Hirschman index)", "How concentrated the partners are in few "
            "countries: the sum of each country's share squared, from near 0 (spread over "
            "many) to 1 (all in one). From 0.25 the concentration is high."),
    "constraint": ("Constraint", "Burt's measure of how closed the network around an "
                   "organisation is: high when its partners all work with each other, so they "
                   "bring the same news; low for an open network of separate contacts."),
    "effective_size": ("Effective size", "How many of the partners are really separate "
                       "contacts: the number of partners minus how much they overlap with "
                       "each other."),
    "pagerank": ("PageRank", "Influence in the network: high for organisations linked to "
                 "organisations that are themselves well linked."),
    "k_core": ("k-core", "The deepest group the organisation belongs to in which everyone "
               "has at least k partners inside the group: a higher k is nearer the network's "
               "dense centre."),
    "modularity": ("Modularity", "How clearly the network falls into communities: near 0 "
                   "when links run anywhere, towards 1 when they mostly stay inside groups."),
    "betweenness": ("Betweenness", "How often an organisation lies on the shortest path "
                    "between two others: the brokers that connect parts of the network."),
    "kogut_singh": ("Kogut–Singh distance", "How far apart two countries' national cultures "
                    "are, from Hofstede's six dimensions (0 = the same profile). National "
                    "averages: never a judgement of the people you will work with."),
}
_tips = itertools.count(1)


def term(key: str, label: str | None = None, *, link: bool = True) -> Markup:
    """A word of the glossary with its explanation on hover and focus, leading to its
    place on the methods page (not in a standalone file, which has no server behind it)."""
    name, explanation = GLOSSARY[key]
    tip = f"tip-{key}-{next(_tips)}"
    shown = escape(label or name)
    tooltip = Markup('<span class="tip" role="tooltip" id="{}">{}</span>').format(tip, explanation)
    if link:
        return Markup('<span class="term"><a href="/methods#{}" aria-describedby="{}">{}</a>{}</span>').format(
            key.replace("_", "-"), tip, shown, tooltip)
    return Markup('<span class="term" tabindex="0" aria-describedby="{}">{}{}</span>').format(
        tip, shown, tooltip)


@functools.cache
def methods_page() -> Markup:
    """The methods (methods.md, shipped with the package) as HTML, each heading with an
    anchor; links to other documents of the repository are kept as their words."""
    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = parser.parse((files("innonet") / "methods.md").read_text(encoding="utf-8"))
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            words = tokens[index + 1].content
            token.attrSet("id", re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-"))
    html = parser.renderer.render(tokens, parser.options, {})
    return Markup(re.sub(r'<a href="[^"]*\.md(#[^"]*)?">(.*?)</a>', r"\2", html))
