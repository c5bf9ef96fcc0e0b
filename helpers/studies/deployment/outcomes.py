"""How the offers of a simulated day compare with the truth (notebook 10), and the summary the report reads.

The demo day (:mod:`helpers.studies.deployment.demo`) knows each user's favourite category and what each upload
really is; these functions set the pipeline's outputs beside that truth.
"""

from __future__ import annotations

import pandas as pd

from helpers.evaluation.metrics import share_interval

#: The reasons of :func:`helpers.serving.offer_decisions.user_offer`, as categories (matched on the reason's words).
NO_OFFER_KINDS = {"could be read": "no readable image", "no fashion item": "every image rejected as not fashion",
                  "labelled confidently": "no confident label", "a tie": "a tie between two offers",
                  "held back": "favourite category held back", "needed": "too few confident images"}


def expected_offer(favourite: str, rules: dict) -> str | None:
    """The offer a user with this favourite category should get (``None`` for a held category)."""
    return rules["offers"].get(favourite)


def offer_table(offers: pd.DataFrame, truth: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """One row per user: the offer made, the offer the favourite deserves, and whether the offer made is right."""
    t = offers.merge(truth, on="user_id", how="left", validate="one_to_one")
    t["deserved"] = t["favourite"].map(lambda f: expected_offer(f, rules))
    t["made"] = t["offer"].notna()
    t["right"] = t["made"] & (t["offer"] == t["deserved"])
    t["no_offer_kind"] = [None if m else next((v for k, v in NO_OFFER_KINDS.items() if k in r), "other")
                          for m, r in zip(t["made"], t["reason"])]
    return t


def precision_by_offer(table: pd.DataFrame) -> pd.DataFrame:
    """Per offer made: users, right offers, precision; and one row for all offers."""
    made = table[table["made"]]
    g = made.groupby("offer").agg(users=("user_id", "size"), right=("right", "sum"))
    g.loc["all offers"] = [len(made), int(made["right"].sum())]
    g["precision"] = (g["right"] / g["users"]).round(3)
    return g


def coverage_by_favourite(table: pd.DataFrame) -> pd.DataFrame:
    """Per favourite category: users, users offered the right thing, users without an offer."""
    g = table.groupby("favourite").agg(users=("user_id", "size"), right_offer=("right", "sum"),
                                        no_offer=("made", lambda m: int((~m).sum())))
    g["right_share"] = (g["right_offer"] / g["users"]).round(3)
    return g


def no_offer_reasons(table: pd.DataFrame) -> pd.Series:
    """Users without an offer, by kind of reason."""
    return table.loc[~table["made"], "no_offer_kind"].value_counts().rename("users")


def uploads_by_source(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per kind of upload (the demo's ``source``): uploads, unreadable, rejected by the rule, counted toward an
    offer, and the label's accuracy among the readable uploads of a fashion category."""
    p = predictions.copy()
    p["readable"] = p["error"].isna()
    p["rejected"] = (p["in_domain"] == False).fillna(False).astype(bool)  # noqa: E712
    p["right"] = p["readable"] & (p["label"] == p["true_label"]).fillna(False).astype(bool)
    g = p.groupby("source").agg(uploads=("row", "size"), unreadable=("readable", lambda r: int((~r).sum())),
                                rejected=("rejected", "sum"), counted=("counts", "sum"), right=("right", "sum"))
    g["rejected_share"] = (g["rejected"] / g["uploads"]).round(3)
    g["counted_share"] = (g["counted"] / g["uploads"]).round(3)
    g["label_accuracy"] = (g["right"] / (g["uploads"] - g["unreadable"])).round(3)
    return g.drop(columns="right")


def offer_scores(table: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """Per offer (and one row for all offers), as the pipeline makes them, against the truth: **precision** (of the
    offers made, the share that is what the user's favourite deserves) and **coverage** (of the users whose favourite
    deserves the offer, the share who got it), each with its 95 % Wilson interval over the simulated users."""
    offered = sorted({o for o in rules["offers"].values() if o})
    rows = {}
    for offer in offered + ["all offers"]:
        made = table["made"] if offer == "all offers" else table["offer"] == offer
        deserve = table["deserved"].notna() if offer == "all offers" else table["deserved"] == offer
        p, c = share_interval(int((made & table["right"]).sum()), int(made.sum())), share_interval(
            int((deserve & table["right"]).sum()), int(deserve.sum()))
        rows[offer] = {"offers made": p["of"], "right": p["count"], "precision": p["share"],
                       "precision low": p["low"], "precision high": p["high"], "users who deserve it": c["of"],
                       "coverage": c["share"], "coverage low": c["low"], "coverage high": c["high"]}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("offer")


def wrong_per_1000(table: pd.DataFrame) -> dict:
    """Wrong offers per 1,000 offers made, with the 95 % interval (users whose offer is not what they deserve)."""
    made = table[table["made"]]
    s = share_interval(int((~made["right"]).sum()), len(made))
    return {"wrong": s["count"], "offers": s["of"], **{k: round(1000 * s[k], 1) for k in ("share", "low", "high")}}


def day_summary(table: pd.DataFrame, predictions: pd.DataFrame, rules: dict, favourite_share: float) -> dict:
    """What a simulated day says, for the results file that the report reads: users, uploads, offers made,
    precision and coverage per offer with intervals, wrong offers per 1,000, and what the pipeline set aside."""
    scores = offer_scores(table, rules)
    by_source = uploads_by_source(predictions)
    return {"favourite_share": favourite_share, "users": int(len(table)), "uploads": int(len(predictions)),
            "offers_made": int(table["made"].sum()),
            "offers": {o: {k.replace(" ", "_"): (None if pd.isna(v) else (int(v) if k in ("offers made", "right",
                                                   "users who deserve it") else float(v))) for k, v in r.items()}
                       for o, r in scores.iterrows()},
            "wrong_per_1000": wrong_per_1000(table),
            "no_offer": {k: int(v) for k, v in no_offer_reasons(table).items()},
            "by_source": {s: {"uploads": int(r["uploads"]), "unreadable": int(r["unreadable"]),
                              "rejected": int(r["rejected"]), "counted": int(r["counted"])}
                          for s, r in by_source.iterrows()}}


def junk_that_counts(predictions: pd.DataFrame, source: str = "non-fashion photo") -> pd.Series:
    """The non-fashion uploads that the rejection rule kept *and* that counted toward an offer, by the label they
    got: the offers that junk would dilute."""
    p = predictions[(predictions["source"] == source) & predictions["counts"]]
    return p["label"].value_counts().sort_index().rename("non-fashion uploads counted")
