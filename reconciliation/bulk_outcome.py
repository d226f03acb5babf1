"""One line at the top of the findings queue saying what a bulk decision did: how many were
approved or dismissed, and what happened to the rest and what to do about them."""

from collections import Counter

# What each kind of refusal (`fixes.FixRefused.kind`) asks of the person, for one and many.
KINDS = {
    "no_fix": (
        "1 has no automatic fix — correct it by hand, then dismiss it saying so",
        "{n} have no automatic fix — correct them by hand, then dismiss them saying so",
    ),
    "large": (
        "1 is above your firm's amount for a second confirmation — open its fix and confirm it",
        "{n} are above your firm's amount for a second confirmation — open each fix and confirm it",
    ),
    "decided": ("1 was already decided", "{n} were already decided"),
    "no_reason": (
        "1 was not dismissed — write why, then dismiss it",
        "{n} were not dismissed — write why, then dismiss them",
    ),
    "failed": (
        "1 fix failed — the error is on its finding",
        "{n} fixes failed — each error is on its finding",
    ),
    "": ("1 was not decided — why is on its finding", "{n} were not decided — why is on each"),
}
DONE = {"approve": "approved", "dismiss": "dismissed"}


def outcome(action: str, done: int, left: Counter) -> tuple[str, str]:
    """(message level, sentence): `done` decided as asked, `left` the others by kind."""
    parts = [f"{done} {DONE[action]}" if done else f"None {DONE[action]}"]
    for kind, (one, many) in KINDS.items():
        if n := left.get(kind, 0):
            parts.append(one if n == 1 else many.format(n=n))
    level = "success" if not left else "warning" if done else "error"
    return level, "; ".join(parts) + "."
