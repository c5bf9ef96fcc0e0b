"""From prediction rows to one offer per user (the per-user step of the offers pipeline).

For each user, the images that *count* (readable, kept by the rejection rule, at least their category's
confidence threshold) are grouped by what their category offers (the merged categories as one group, a held
category as itself). The group with the most counted images wins; the user gets its offer when the group is
offered (not held), it is not tied, and it has at least the rule's minimum number of counted images. Every user
gets a plain-words reason, with or without an offer.
"""

from __future__ import annotations

import pandas as pd

OFFER_COLUMNS = ("user_id", "offer", "images", "counted", "share", "reason")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _group_name(group: str, rules: dict) -> str:
    members = [c for c, o in rules["offers"].items() if o == group]
    return f"{group} ({', '.join(members)})" if members and members != [group] else group


def user_offer(images: int, unreadable: int, rejected: int, counted: dict, rules: dict) -> dict:
    """The offer and its reason for one user: ``counted`` maps each group (an offer name, or a held category's
    name) to the user's counted images in it."""
    of = f"of {images}"
    if not counted:
        if unreadable == images:
            why = f"none of {_plural(images, 'image')} could be read"
        elif unreadable + rejected == images:
            why = f"no fashion item among {_plural(images, 'image')} (the rejection rule set aside {rejected})"
        else:
            why = f"no image labelled confidently enough among {_plural(images, 'image')}"
        return {"offer": None, "counted": 0, "share": 0.0, "reason": why}
    ranked = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
    group, n = ranked[0]
    base = {"counted": n, "share": round(n / images, 4)}
    if len(ranked) > 1 and ranked[1][1] == n:
        tied = " and ".join(f"{k}" for k, v in ranked if v == n)
        return {**base, "offer": None, "reason": f"a tie: {n} confident images each of {tied}, {of}"}
    said = f"{n} confident {_group_name(group, rules)} {'image' if n == 1 else 'images'} {of}"
    if group not in rules["min_images"]:
        return {**base, "offer": None, "reason": f"{said}, but {group} offers are held back"}
    need = rules["min_images"][group]
    if n < need:
        return {**base, "offer": None, "reason": f"{said}; {need} needed"}
    return {**base, "offer": group, "reason": said}


def make_offers(predictions: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """One row per user (in order of first upload) with :data:`OFFER_COLUMNS`."""
    p = predictions
    users = pd.unique(p["user_id"])
    images = p.groupby("user_id", sort=False).size()
    unreadable = p["error"].notna().groupby(p["user_id"], sort=False).sum()
    rejected = (p["in_domain"] == False).fillna(False).groupby(p["user_id"], sort=False).sum()  # noqa: E712
    c = p[p["counts"]]
    group = c["label"].map(lambda lab: rules["offers"].get(lab) or lab)
    counts = group.groupby([c["user_id"], group], sort=False).size()
    per_user: dict = {}
    for (user, g), n in counts.items():
        per_user.setdefault(user, {})[g] = int(n)
    rows = []
    for u in users:
        o = user_offer(int(images[u]), int(unreadable.get(u, 0)), int(rejected.get(u, 0)), per_user.get(u, {}), rules)
        rows.append({"user_id": u, "images": int(images[u]), **o})
    out = pd.DataFrame(rows, columns=list(OFFER_COLUMNS))
    out["offer"] = out["offer"].astype("string")
    return out
