"""axe-core in the browser tests: WCAG 2.1 AA, no violation, and no colour-contrast item that axe
cannot decide ("needs review") unless it is explained below. axe-core itself is fetched, pinned and
checked by .ci/axe-core (``make axe-core``; ``make test`` runs it) into the git-ignored var/vendor/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parents[2] / "var" / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Colour-contrast items axe leaves for review, by a CSS selector of the element (as axe names it),
# each with the reason it is fine. Anything else axe cannot decide fails the test.
CONTRAST_REVIEWED: dict[str, str] = {
    "#confirm-unanswered": (
        "the exam room's confirmation is a modal <dialog> in the top layer, over the page; axe looks for the "
        "background behind it in the page and finds the question grid; the text is --ink #0b1f33 on the "
        "dialog's own white, 16.6:1"
    ),
}


# A whole kind of review, with its reason: a text area that axe finds "obscured" by itself (the
# element its own related node). Chromium draws the editing box of a <textarea> as an inner
# element over it, and axe cannot see through it; the text of every text area is the form's
# --ink #0b1f33 on white (app.css), 16.6:1.
SELF_OBSCURED_TAGS = {"textarea": "a text area's own editing box: --ink on white, 16.6:1"}


def _explained(node: dict[str, Any]) -> bool:
    target = _targets(node)
    if target in CONTRAST_REVIEWED:
        return True
    related = {_targets(r) for check in node.get("any", []) for r in check.get("relatedNodes", [])}
    tag = node.get("html", "").lstrip("<").split(" ", 1)[0].split(">", 1)[0].lower()
    return tag in SELF_OBSCURED_TAGS and related == {target}


def axe_run(page: Any) -> dict[str, Any]:
    """Run axe-core on the page (injected once per document) at WCAG 2.1 AA."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(
        """tags => axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations", "incomplete"]})""",
        WCAG_21_AA,
    )


def _targets(node: dict[str, Any]) -> str:
    return " ".join(str(t) for t in node.get("target", []))


def axe_problems(results: dict[str, Any]) -> list[str]:
    """Violations and unexplained colour-contrast reviews, one line per element."""
    problems = [
        f"{rule['id']} ({rule['impact']}): {rule['help']} at {_targets(node)}: {node.get('failureSummary', '')}"
        for rule in results["violations"]
        for node in rule["nodes"]
    ]
    for rule in results["incomplete"]:
        if rule["id"] != "color-contrast":
            continue
        for node in rule["nodes"]:
            target = _targets(node)
            if not _explained(node):
                reason = "; ".join(check.get("message", "") for check in node.get("any", []))
                related = [_targets(r) for check in node.get("any", []) for r in check.get("relatedNodes", [])]
                reason += f" (over {', '.join(related)})" if related else ""
                problems.append(f"color-contrast needs review at {target}: {reason} ({node.get('html', '')[:120]})")
    return problems
