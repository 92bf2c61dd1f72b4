"""Writes models/<name>/MODEL_CARD.md from the training report.

The section between <!-- eval:begin --> and <!-- eval:end --> belongs to `npm run eval` (held-out test
metrics); an existing section is carried over unchanged so retraining does not erase it (the eval must
be rerun on a new model, and the section says which model sha256 it measured).
"""
from __future__ import annotations

import argparse
import json
import os
import re
from collections import Counter

EVAL_BEGIN = "<!-- eval:begin -->"
EVAL_END = "<!-- eval:end -->"
EVAL_PLACEHOLDER = (
    "## Evaluation on the held-out test set\n\n"
    "Not measured yet for this model file. Run `npm run eval` (held-out test seeds, never used in training): it "
    "writes recall, false alarms per scan without people, ROC AUC, the per-category breakdown, the robustness "
    "figures and the ROC picture into this section."
)


def pct(v: float) -> str:
    return "n/a" if v != v else f"{100 * v:.1f} %"


def fmt_int(n: int) -> str:
    return f"{n:,}"


def existing_eval_section(path: str) -> str | None:
    if not os.path.exists(path):
        return None
    text = open(path).read()
    m = re.search(re.escape(EVAL_BEGIN) + r"(.*?)" + re.escape(EVAL_END), text, re.S)
    return m.group(1) if m else None


def category_table(by_cat: dict, axis: str, title: str) -> list[str]:
    groups = by_cat.get(axis)
    if not groups:
        return []
    lines = [f"| {title} | scans | with people | people | scan recall | person recall | false alarms |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, s in groups.items():
        lines.append(
            f"| {name} | {s['scans']} | {s['scansWithPeople']} | {s['people']} | {pct(s['scanRecall'])} | "
            f"{pct(s['personRecall'])} | {pct(s['falseAlarmRate'])} |"
        )
    return lines + [""]


def hiding_table(report: dict) -> list[str]:
    rows = report.get("validationByHidingPlace") or {}
    if not rows:
        return []
    lines = ["| hiding place | people | found |", "|---|---:|---:|"]
    for name, s in sorted(rows.items()):
        lines.append(f"| {name} | {s['people']} | {pct(s['found'])} |")
    return lines + [""]


def subset_cells(s: dict, with_rate: bool) -> tuple[str, str, str, str]:
    """Table cells of a validation subset (training/held_out_report.py subset_figures): scans with people flagged,
    people found, false alarms (with their rate when with_rate), ROC AUC; "–" where the subset has none."""
    flagged = "–" if s["scanRecall"] is None else pct(s["scanRecall"])
    people = "–" if not s["people"] else f"{s['peopleFound']}/{s['people']}"
    fa = "–" if not s["scansWithoutPeople"] else f"{s['falseAlarms']}/{s['scansWithoutPeople']}" + (f" ({pct(s['falseAlarmRate'])})" if with_rate else "")
    auc = "–" if s["auc"] is None else f"{s['auc']:.3f}"
    return flagged, people, fa, auc


def hard_share(t: dict) -> float:
    """The share of mined hard-negative crops in a manifest's training section (0 without mining)."""
    return (t.get("hardNegatives") or {}).get("share", 0.0)


def same_recipe(h: dict, t: dict) -> bool:
    """Whether a held-out run (held-out.json) had this model's settings apart from the families held out. Files
    written before they recorded a seed are taken as the model's own recipe; files written before they recorded the
    training seeds, as trained on this model's."""
    if "seed" not in h:
        return True
    return (h["seed"] == t.get("seed") and h.get("iterations") == t.get("iterations")
            and h.get("hardNegatives", 0.0) == hard_share(t) and bool(h.get("packs")) == bool(t.get("packs"))
            and bool(h.get("exportEstimate")) == bool(t.get("exportEstimate")) and h.get("exportClip", 0.0) == t.get("exportClip", 0.0)
            and h.get("scaleLines") == t.get("scaleLines")
            and h.get("members", 1) == t.get("members", 1) and h.get("combine", "mean") == t.get("combine", "mean")
            and ("trainSeeds" not in h or h["trainSeeds"] == t.get("trainSeeds")))


def held_out_section(h: dict, own_held_out: str | None, has_matrix: bool, same: bool = True,
                     lane_default: bool = False) -> list[str]:
    """The generalisation table of a run trained with families held out (training/held_out_report.py). lane_default:
    the manifest makes the held-out point the lanes' default (operatingPoint.laneDefault)."""
    out = ["## Generalisation to families never trained on", ""]
    iterations = fmt_int(h["iterations"] or 0)
    if own_held_out == h["heldOut"]:
        who = "This model was"
    elif same and h.get("members", 1) > 1:
        seeds = ", ".join(str(h["seed"] + i) for i in range(h["members"]))
        who = f"An ensemble of the same recipe ({h['members']} members, seeds {seeds}, {iterations} iterations each) was"
    elif same:
        who = f"A run of the same recipe ({iterations} iterations" + (f", seed {h['seed']}" if "seed" in h else "") + ") was"
    else:
        who = (f"A run of another recipe ({iterations} iterations, seed {h.get('seed', '?')}, "
               f"hard negatives {100 * h.get('hardNegatives', 0.0):g} %" + (", packs" if h.get("packs") else "")
               + (f", {h['members']} members" if h.get("members", 1) > 1 else "") + ") was")
    out.append(
        f"{who} trained with whole families held "
        f"out ({h['heldOut'].replace(',', ', ')}): every training scan showing one of them was left out. Its operating "
        f"threshold was chosen on the validation scans of the families it did see (at most {pct(h['maxFalseAlarmRate'])} "
        "false alarms) and applied unchanged to the validation scans of each held-out family: several families out "
        "at once" + ("; one family at a time: the leave-one-family-out matrix below" if has_matrix else "") + ". Reproduce: docs/training.md.")
    out.append("")
    out.append("| validation subset | scans | with people | scans flagged | people found | false alarms | ROC AUC |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for s in h["subsets"]:
        flagged, people, fa, auc = subset_cells(s, with_rate=True)
        out.append(f"| {s['subset']} | {s['scans']} | {s['scansWithPeople']} | {flagged} | {people} | {fa} | {auc} |")
    out.append("")
    op = h.get("heldOutOperatingPoint")
    if op and not same:
        seen = op["seen"]
        out.append(
            f"That run also chose an operating point on its held-out families (raw {op['rawThreshold']:.4f}: at most "
            f"{pct(h['maxFalseAlarmRate'])} of their {op['heldOutScansWithoutPeople']} validation scans without people alarm; "
            f"the seen families find {seen['peopleFound']} of {seen['people']} people there). It belongs to another recipe, so "
            "this model names no `operatingPoint.heldOut`: a lane with `thresholds.alert: held-out` decides at this model's "
            "own operating point and warns (docs/inference.md) until a held-out run of this recipe is trained "
            "(docs/training.md, \"Families held out\").")
        out.append("")
    elif op:
        seen, held = op["seen"], op["heldOut"]
        where = ("**the lane default**: a lane that sets no `thresholds.alert` decides here (`operatingPoint.laneDefault`), "
                 "as does one with `thresholds.alert: held-out`" if lane_default else
                 "a lane takes it with `thresholds.alert: held-out`")
        out.append(
            f"**The operating point chosen on the held-out families** (`operatingPoint.heldOut` in manifest.json; {where}): the lowest threshold at which their {op['heldOutScansWithoutPeople']} validation "
            f"scans without people alarm at most {pct(h['maxFalseAlarmRate'])} of the time (raw {op['rawThreshold']:.4f}). There "
            f"the seen families alarm on {seen['falseAlarms']} of {seen['scansWithoutPeople']} scans without people "
            f"({pct(op['seenFalseAlarmRate'])}) and find {seen['peopleFound']} of {seen['people']} people "
            f"({pct(seen['peopleFound'] / seen['people'])}); the held-out families find {held['peopleFound']} of "
            f"{held['people']} ({pct(held['peopleFound'] / held['people'])}). This model, trained on every family, takes the "
            "point where its own validation and threshold-set scans without people alarm at that same share; the evaluation "
            "below reads it on the test seeds, whose families it trained on. On families it never saw, expect it to find far "
            "fewer people than there, as the held-out run did; its false alarms on them are measured only on the scans it was "
            "chosen on.")
        out.append("")
    return out


def leave_one_out_section(loo: dict, hard_share: float = 0.0, train_seeds: str | None = None) -> list[str]:
    """The leave-one-family-out matrix (training/leave_one_out_report.py). train_seeds: the model's, to say when the
    runs were trained on other scans."""
    out = ["## Leave one family out", ""]
    recipe = "the training recipe"
    if hard_share and not loo.get("hardNegatives"):
        recipe = "the training recipe without hard negatives (the recipe of model 2.0.0)"
    if loo.get("packs"):
        recipe += " with packs of rounded lumps (PACKS=1)"
    if train_seeds and loo.get("trainSeeds") and loo["trainSeeds"] != train_seeds:
        recipe += f" on other training scans (seeds {loo['trainSeeds']}; this model's: {train_seeds})"
    out.append(
        f"Runs of {recipe} shortened to {fmt_int(loo['iterations'])} iterations (one model each, not an "
        "ensemble), each with one family held out of training, and one run with every family "
        "(`npm run train:leave-one-out`, docs/training.md). Each family's validation scans are read with the "
        f"threshold at which the other families' validation scans without people alarm at most "
        f"{pct(loo['maxFalseAlarmRate'])} of the time, in both runs: the difference between a family's two rows is "
        "what its absence from training costs, plus the spread between two runs, which is as large: runs of one "
        "recipe that differ only in their seed alarmed on 1, 2 and 10 of the 13 clear validation buses (2.0.0's recipe; "
        "docs/training.md, \"Ensembles\"). Validation scans per family are few; read the counts, not only the rates.")
    out.append("")
    out.append("| family | training | scans | scans with people flagged | people found | false alarms | ROC AUC |")
    out.append("|---|---|---:|---:|---:|---:|---:|")
    for row in loo["families"]:
        for label, s in (("trained on", row["trained"]), ("**held out**", row["heldOut"])):
            flagged, people, fa, auc = subset_cells(s, with_rate=False)
            out.append(f"| {row['family'].replace('=', ' ')} | {label} | {s['scans']} | {flagged} | {people} | {fa} | {auc} |")
    out.append("")
    return out


def render(report: dict, eval_section: str | None) -> str:
    m = report["manifest"]
    v = report["validation"]
    t = m["training"]
    gmac = report["macsPerMegapixel"] / 1e9
    comp = report.get("trainComposition", {})
    size = report.get("modelBytes", 0)
    minutes = report["trainSeconds"] / 60
    ex = report.get("examples", {})
    out: list[str] = []
    w = out.append
    w(f"# {m['name']} {m['version']}: concealed-person detector for drive-through X-ray scans")
    w("")
    w(f"`model.onnx` sha256 `{m['sha256']}` · opset {m['opset']} · {fmt_int(report['params'])} parameters · "
      f"{size / 1e6:.2f} MB · {gmac:.2f} GMAC ({2 * gmac:.2f} GFLOP) per megapixel at {m['pixelMm']:g} mm")
    w("")
    w("## What it does")
    w("")
    w("Given a vehicle X-ray scan (high-energy image, and the low-energy image when the scanner has one), it outputs a "
      f"heatmap at stride {m['outputs']['heatmap']['stride']} (probability that a cell lies on a concealed person) and "
      "a tile score (probability that the input tile contains a person). The lane runtime tiles the scan "
      f"({m['tiling']['tileLines']} lines, {m['tiling']['overlapLines']} overlap), takes the scan score as the maximum "
      "tile score, calibrates it (Platt), and decodes regions from the heatmap. The input/output contract, "
      "preprocessing and decoding are specified in [docs/model-contract.md](../../docs/model-contract.md); every "
      "number the runtime needs is in `manifest.json`.")
    w("")
    w("Intended use: to draw an operator's attention to scans that may hide people, as one input beside the "
      "operator's own reading. It is not a clearance: a scan it calls clear still goes to the operator.")
    w("")
    w("## Data")
    w("")
    w(f"Trained only on synthetic scans from the project's X-ray synthesizer (`sim/xray/`, "
      f"[docs/xray-synthesizer.md](../../docs/xray-synthesizer.md)): dual-energy (4 and 6 MeV effective) "
      f"transmission images (pitches in `training.dataset` of manifest.json: {t.get('dataset', 'n/a')}), area-averaged to "
      f"{m['pixelMm']:g} mm as the runtime does.")
    w("")
    w(f"- Training: {fmt_int(report['trainScans'])} scans, seeds {t['trainSeeds']} ({fmt_int(report['trainPeople'])} people).")
    cs = report.get("calibrationSet")
    w(f"- Validation (calibration{' with the calibration set below' if cs else ''}; thresholds; the figures below): "
      f"{fmt_int(report['valScans'])} scans, seeds {t['valSeeds']}.")
    if cs:
        w(f"- Calibration set (with the validation scans, fits the calibration of the scan score and nothing else): "
          f"{fmt_int(cs['scans'])} scans, seeds {cs['seeds']} ({fmt_int(cs['withPeople'])} with people).")
    w("- Test: the synthesizer's test seed range (2,000,000 and up), used only by `npm run eval`, never in training.")
    w("")
    if comp:
        w("Training set composition (scans):")
        w("")
        for axis, title in (("vehicle", "vehicle"), ("density", "cargo density"), ("cargo", "cargo"), ("hidingPlace", "hiding place (people)"), ("decoy", "decoys")):
            c = comp.get(axis)
            if c:
                w(f"- {title}: " + ", ".join(f"{k} {n}" for k, n in sorted(c.items(), key=lambda kv: -kv[1])))
        w("")
    mined = hard_share(t)
    share = f"{100 * (0.3 - mined / 2):g} %"
    w(f"Each batch mixes crops on people (40 %), crops from scans without people ({share}) and crops on decoys "
      f"(water containers, sacks, bundles, carcasses, person-sized figures of other materials, produce bins: {share}"
      + (f"; and {100 * mined:g} % on the model's own false alarms, below" if mined else ", the hard negatives") + "). Augmentations, at the model pitch, before the log: horizontal flip; rescaling along the "
      + (f"scan (line pitch and speed, {t['scaleLines'][0]:g}–{t['scaleLines'][1]:g}, log-uniform)" if t.get("scaleLines") else "scan (speed, 0.85–1.2)")
      + " and up the detector (fan-beam magnification, 0.9–1.12); gain drift (±6 %); line flicker; "
      "extra noise with variance up to 30 × I (a dose roughly 4× lower); scanner physics drawn per crop (beam "
      "hardening, scatter, detector blur and cross-talk, afterglow, dark offset, saturation); 1–4 dead channels "
      "reading 0; 1–5 bursts of missing lines filled by interpolation; 8-bit export through random display chains "
      "(linear or log scaling, window, gamma, JPEG blocks) decoded either the runtime's automatic way or linearly "
      "(grey × 257, the runtime's default), or plain 8-bit quantisation; and in 30 % of crops no low-energy image "
      "(logLow = logHigh, lowPresent = 0), so the model also works on single-energy scans.")
    w("")
    packs = bool(t.get("packs"))
    w("Domain randomisation: in half the crops 1–5 random objects that the synthesizer does not draw are laid over the "
      "crop without changing its labels: ellipsoids, slabs with rounded tops, tyres with rims and hubs, bars, "
      "corrugation, spring packs" + (", lumpy bulk and packs of rounded lumps side by side (produce in a bin, sacks "
      "in a stack, bottles in a crate, the rounded tops of a bagged load; about 5–55 cm each)" if packs else " and lumpy bulk")
      + ", in materials from steel to water (dual-energy ratio 1.05–1.30) and "
      "areal densities of 1–60 g/cm². Water-rich objects come only in shapes no body takes (rings, bars, slabs with "
      "corners, stripes, arcs" + (", packs of many lumps" if packs else "") + "); body-sized ellipsoids and lumps come only in inorganic materials, so that where the "
      "low-energy image shows the material a curled-up person is never taught as a negative. What stays stable "
      "across all of it is the human body "
      "(`training/augment.py`).")
    weights = t.get("placeWeights") or {}
    if weights:
        w("")
        w("Person crops are drawn per hiding place in proportion to its share of the training people times a weight ("
          + ", ".join(f"{k} × {v:g}" for k, v in sorted(weights.items())) + ", others × 1): these places are shown "
          "more often than the data alone would show them."
          + (f" Chosen from {t['placeWeightsBasis']}." if t.get("placeWeightsBasis") else ""))
    hard = t.get("hardNegatives")
    if hard:
        w("")
        w(f"Hard negatives: every {fmt_int(hard['mineEvery'])} iterations the run's own EMA model reads every training scan "
          f"whole, and the {fmt_int(hard['keep'])} strongest heatmap peaks at least 64 cm from any person (two per scan at most) "
          f"become the centres of {100 * hard['share']:g} % of the crops until the next pass, so the model is shown its own "
          "false alarms while it trains (`training/mining.py`).")
    w("")
    w("## Architecture")
    w("")
    members = t.get("members", 1)
    if members > 1:
        seeds = ", ".join(str(x) for x in t.get("memberSeeds", []))
        how = ("their heatmap probabilities (per cell) and tile scores (per tile) are averaged, so a cell or tile scores "
               "high only where the members agree. Runs of one recipe that differ only in their seed differ widely in "
               "which scans without people they alarm on (docs/training.md); averaging them narrows that spread."
               if t.get("combine", "mean") == "mean" else
               "the lowest of their heatmap probabilities (per cell) and of their tile scores (per tile) is taken "
               "(`combine: min`), so a cell or tile scores only as high as the least convinced member scores it.")
        w(f"An ensemble of {members} networks of the architecture below (`PersonEnsemble` in `training/model.py`), "
          f"trained alike with seeds {seeds}, in one ONNX graph: each tile goes through every member, and {how} "
          "The parameters and compute below are the ensemble's, all members together.")
        w("")
    w("A small fully-convolutional encoder–decoder (`training/model.py`), input "
      f"[N, 3, H, W] (logHigh, logLow, lowPresent; H and W multiples of {m['input']['sizeMultiple']}), any scan length:")
    w("")
    w("| stage | layers | stride | channels |")
    w("|---|---|---:|---:|")
    w("| stem | conv 3×3 s2 + BN + ReLU | 2 | 16 |")
    w("| down4 | conv 3×3 s2, conv 3×3 | 4 | 32 |")
    w("| down8 | conv 3×3 s2, conv 3×3 | 8 | 48 |")
    w(f"| down16 | conv 3×3 s2, conv 3×3 dilation 1, 2, 4 (receptive field about 300 pixels = {0.3 * m['pixelMm']:.0f} m) | 16 | 64 |")
    w("| up8 | nearest ×2 + 1×1 skip from down8, conv 3×3 | 8 | 48 |")
    w("| up4 | nearest ×2 + 1×1 skip from down4, conv 3×3 | 4 | 32 |")
    w("| heatmap | conv 1×1, sigmoid | 4 | 1 |")
    w("| score | global max of a 1×1 projection of down16 (32) and of the heatmap logit, linear, sigmoid | tile | 1 |")
    w("")
    w(f"Parameters: {fmt_int(report['params'])}. Compute: {gmac:.2f} GMAC per megapixel of model input "
      f"({2 * gmac:.2f} GFLOP/MP), counted over every convolution and linear layer (`macs_per_megapixel` in "
      f"`training/model.py`); a 1,280 × 3,000 scan at 5 mm is {3.84 / (m['pixelMm'] / 5) ** 2:.2f} MP at {m['pixelMm']:g} mm, so about "
      f"{3.84 / (m['pixelMm'] / 5) ** 2 * 2 * gmac:.1f} GFLOP plus tile overlap. Exported with batch norm folded, sigmoids inside, dynamic batch, height and width.")
    w("")
    w("## Training")
    w("")
    each = f"each of the {members} members for " if members > 1 else ""
    w(f"`npm run train` (`training/train.sh`): regenerates the data sets from their seeds, trains {each}{fmt_int(t['iterations'])} "
      f"iterations of batch {t['batch']} (crops of {report.get('cropRows', 192)} rows × {report.get('cropLines', m['tiling']['tileLines'])} lines at "
      f"{m['pixelMm']:g} mm) with AdamW (lr {report.get('lr', 3e-3):g}, warm-up, cosine decay, weight decay 1e-4), focal loss on the heatmap (cells ≥ 50 % covered by a person are "
      "positives; 10–50 % ignored) plus binary cross-entropy on the tile score (a tile is positive when it holds "
      "≥ 50 % of a person; targets smoothed to 0.03/0.97 so that the score cannot saturate), and exports an exponential "
      "moving average of the weights" + (" of each member" if members > 1 else "") + "." + (f" Families held out of training: {t['heldOut']}." if t.get("heldOut") else
      " Every family of the synthesizer is in the training data; generalisation to families never seen is measured "
      "by a separate run with families held out (below)."))
    w("")
    w(f"Training time: {minutes:.0f} min on {report['threads']} CPU threads (torch {report['torch']}, 2-core machine), "
      f"plus data generation and validation (`npm run train` end to end: see docs/training.md). Seeds are fixed (training seed{'s ' + ', '.join(str(x) for x in t.get('memberSeeds', [])) if members > 1 else ' ' + str(t['seed'])}, "
      "per-iteration batch generators), so a rerun on the same software draws the same batches; torch CPU kernels "
      "may still differ in the last float bits between machines and thread counts, so a retrained file can differ "
      "in its sha256 while its figures agree closely.")
    w("")
    w("![training loss](pictures/training-loss.png)")
    w("")
    w("Training loss per 25 iterations (log scale; red: heatmap focal loss, blue: tile score BCE).")
    w("")
    w("## Validation figures (from training)")
    w("")
    w(f"On {v['scans']} validation scans at 5 mm ({v['scansWithPeople']} with {v['people']} people, "
      f"{v['scansWithoutPeople']} without), whole scans tiled as the runtime does:")
    w("")
    w(f"- ROC AUC (scan with people vs without): {v['auc']:.4f}")
    ts = report.get("thresholdSet")
    chosen_on = ("validation scans without people" if not ts else
                 f"the validation scans without people and {fmt_int(ts['scans'])} more of the threshold set (seeds "
                 f"{ts['seeds']}, scans without people kept apart to choose this threshold alone; {ts['falseAlarms']} of them "
                 "alarm)")
    w(f"- At the operating point (at most {pct(m['operatingPoint']['maxFalseAlarmRate'])} false alarms on {chosen_on}; "
      f"calibrated threshold {m['operatingPoint']['scoreThreshold']:.4f}): scans with people "
      f"flagged {pct(v['scanRecall'])}, people found {pct(v['personRecall'])} (scan flagged and a region overlapping "
      f"the person, IoU ≥ 0.1), false alarms {pct(v['falseAlarmRate'])}.")
    w(f"- People localised by a region regardless of the scan score: {pct(v['personLocalised'])}.")
    w(f"- Calibration (Platt on validation{' and the calibration set' if cs else ''}): a = {m['calibration']['a']:.4f}, b = {m['calibration']['b']:.4f}; "
      f"region peak threshold {m['decoding']['peakThreshold']}"
      + (f", regions split at peaks rising {m['decoding']['splitProminence']} above their join." if m["decoding"].get("splitProminence") else "."))
    for line in report.get("validationNotes", []):
        w(f"- {line}")
    w("")
    w("These validation seeds also chose the thresholds, so they flatter the model slightly; the held-out test "
      "figures below are the ones to quote.")
    w("")
    w("![validation ROC](pictures/validation-roc.png)")
    w("")
    w("Validation ROC (scan level): false alarms on scans without people 0–10 % across (yellow line: 2 %), scans with "
      "people flagged 80–100 % up (grid lines at 85, 90 and 95 %).")
    w("")
    by_cat = report.get("validationByCategory", {})
    out.extend(category_table(by_cat, "vehicle", "vehicle"))
    out.extend(category_table(by_cat, "density", "cargo density"))
    out.extend(hiding_table(report))
    if ex:
        w(f"Validation examples (scans at the model pitch, {m['pixelMm']:g} mm; green: true person boxes, red: decoded regions, "
          "yellow: decoys, red tint: heatmap):")
        w("")
        titles = {"hit": "Hits (flagged and localised; lowest scores first)", "miss": "Misses (not flagged or not localised)",
                  "clear-top": "Highest-scoring scans without people"}
        for kind, items in ex.items():
            if not items:
                continue
            w(f"{titles.get(kind, kind)}:")
            w("")
            for it in items:
                meta = it.get("meta", {})
                alarm = "alarm" if it["alarm"] else "no alarm"
                w(f"- `{it['scan']}` ({meta.get('vehicle')}, {meta.get('cargo')} {meta.get('density')}"
                  f"{', ' + ', '.join(meta.get('hidingPlaces') or []) if meta.get('hidingPlaces') else ''}): raw score "
                  f"{it['score']:.3f}, {alarm}, people localised by a region {it['found']}/{it['people']}")
                w("")
                w(f"  ![{kind}](pictures/{it['file']})")
                w("")
    held = report.get("heldOutRun")
    held_same = bool(held) and same_recipe(held, t)
    if held:
        out.extend(held_out_section(held, t.get("heldOut"), bool(report.get("leaveOneOut")), held_same,
                                    m["operatingPoint"].get("laneDefault") == "heldOut"))
    loo = report.get("leaveOneOut")
    if loo:
        out.extend(leave_one_out_section(loo, mined, t.get("trainSeeds")))
    w(EVAL_BEGIN + (eval_section if eval_section is not None else "\n" + EVAL_PLACEHOLDER + "\n") + EVAL_END)
    w("")
    w("## Known limits")
    w("")
    for item in report.get("knownLimits", []):
        w(f"- {item}")
    if not t.get("heldOut") and held_same:
        alarming = ", ".join(f"{h['axis']} {h['family']} {h['falseAlarms']} of {h['scansWithoutPeople']}"
                             for h in held["subsets"] if h.get("family") and h.get("falseAlarms"))
        w("- Trained on every family of the synthesizer, so its operating point was chosen on validation scans of "
          "families it trained on. The held-out run of the same recipe above shows what that hides: at the threshold "
          "of the families it saw, scans without people of families it never saw alarmed "
          + (f"far more often than 2 % ({alarming}). " if alarming else "no more often, on few scans. ") +
          "Expect more false alarms than the validation scans show on vehicles and loads unlike the synthesizer's, and set a "
          "site's alert threshold from its own cleared scans (`checkpoint-edge analyze --cleared`).")
    w("- Objects unlike any in its training: read the random-object rows of the evaluation section (the same scenes with and "
      "without objects of random shape and material, `sim xray --clutter`). Real vehicles and loads hold many structures the "
      "synthesizer does not draw; where those rows show more false alarms with the objects, expect the same of them.")
    w("")
    w("## Reproduce")
    w("")
    w(f"`npm run train` regenerates the data and the model (see [docs/training.md](../../docs/training.md)); training "
      f"commit `{t['commit'][:12]}`. `npm run eval` rewrites the evaluation section (its first line names the test scans "
      "it used; this card's: `npm run eval -- --seed-start 2001320 --count 1000 --robust-count 48 --generalisation 50`; "
      "the model's recipe was chosen on validation-range seeds, and these 1,000 seeds were read with it after the "
      "choice; earlier models read them too, and their figures on them are in docs/training.md. Parts of the recipe "
      "came before: the threshold set that chooses the operating point, added after 2.2.0's false alarms on these seeds, "
      "the splitting of regions (`decoding.splitProminence`), chosen on other validation-range seeds"
      + (", and the rule that makes the held-out point the lane default (`operatingPoint.laneDefault`), read on these "
         "seeds and confirmed on fresh ones (docs/training.md)" if m["operatingPoint"].get("laneDefault") == "heldOut" else "")
      + ").")
    w("")
    return "\n".join(out)


KNOWN_LIMITS = [
    "The project's target (at least 95 % of people found at no more than 2 % false alarms on its held-out test set): "
    "the acceptance line of the evaluation section says whether this file meets it on the test seeds it names. On 240 test "
    "scans the figure moves by several points between seed ranges (2.1.0 read 91.2, 87.9 and 96.7 % on three of them: "
    "the operating threshold rests on the third-highest of about 120 clear scores), so the card reads 1,000; and it "
    "is met on synthetic scans only, which says nothing of scans the project did not make (below).",
    "Synthetic data only. The synthesizer's physics (effective-energy attenuation, Poisson noise, blur, gain) and "
    "scene grammar (vehicle classes, cargo kinds, poses, hiding places) bound what the model has seen; real scanners "
    "differ (scatter, fan-beam magnification, detector afterglow, other energies and doses). Before use on a real "
    "scanner, validate on its images and retrain or fine-tune with them.",
    "Pixel pitch: the model works at 20 mm after area averaging (a choice for speed on a 2-core CPU: 16x fewer pixels "
    "than the 5 mm scan). Heads and limbs are a few pixels across at this pitch; small children curled up in dense "
    "cargo are the hardest case. Scans coarser than 20 mm are upsampled by nothing and lose that detail.",
    "People in very dense cargo (steel, machinery, stacked drums) attenuate the beam so strongly that the person's "
    "contrast sinks into noise; recall is lowest there (see the per-density figures).",
    "Single-energy scans: 30 % of training crops had no low-energy image, but calibration and the operating point "
    "were fitted on dual-energy scans; without the low-energy image the model loses the material contrast between a "
    "body and organic cargo, and the held-out robustness table (high-energy-only) shows the effect on people found "
    "and on false alarms.",
    "Water-rich decoys are the main source of false alarms: bins of round produce above all (head-sized, water-rich "
    "lumps), then carcasses and water containers; see the false-alarm pictures and the produce-bin rows.",
    "Weakest conditions: read the robustness and pitch rows of the evaluation section (8-bit exports whose chain is not "
    "named lose people that the named chain keeps, docs/inference.md; single-energy scans lose the material contrast). "
    "Single 8-bit images, as scanners that drop files write them, are read on validation-range scenes by "
    "`eval/compare-cli.ts --sets exports` (docs/training.md, \"Single 8-bit exports\"): a log export windowed so that "
    "thin material is written as open beam, with a strong display gamma and heavy JPEG, alarms there far more often "
    "than the same scans at 16 bits, even with the chain named; name a site's chain, and set its alert threshold from "
    "its own cleared scans.",
    "Line pitch: training rescales crops along the scan by 0.85-1.2 only. A scanner whose lines are not as far apart "
    "as its channels (a fixed line rate, vehicles at their own speed) must say so (scanner.lineMm, a sidecar's "
    "lineMm, analyze --line-mm): read as square pixels, lines twice as far apart cost a third of the people at the "
    "lane default and alarm on a third of the clear scans of every vehicle class at the operating point (docs/inference.md, \"Line pitch\").",
    "The tile score sees one tile at a time: a person cut across two tiles is scored in the tile that holds most of "
    "them (tiles overlap by 64 model pixels = 1.28 m at 20 mm).",
    "The training and validation scans come from the synthesizer version named in manifest.json "
    "(training.dataset). Changes made to the synthesizer after it (scene layout, detector model) are not in the "
    "training data; `npm run eval` generates its test scans with the synthesizer of its own tree, so its figures "
    "include any such shift.",
    "Scores are calibrated on synthetic validation scans; on another scanner the calibration and the operating "
    "threshold must be re-fitted.",
    "Fan beam: the training scans were parallel-beam projections, with fan-beam magnification only approximated by "
    "rescaling crops. A fielded scanner's source stands beside the lane: parts near it are drawn taller than parts "
    "far from it, each axle shows two wheels of different sizes, and deep loads have ramped tops. The synthesizer "
    "projects that geometry on request (docs/xray-synthesizer.md, \"Fan-beam geometry\"); read the fan-beam rows of "
    "the evaluation section (the same scenes both ways) for what it costs this model.",
    "Not modelled yet: vendor image processing (edge enhancement, pseudo-colour), real spectra and transported "
    "scatter, L-shaped detectors and sources above the lane, clothing and organs, makes "
    "and models of vehicles, loads that shift, live animals. Domain randomisation stands in for structures the "
    "synthesizer does not draw; it does not replace real scans of them.",
    "Figures on scans the project did not make (another generator, its 8-bit exports, real scanners' exports) are "
    "not measured here; before go-live each lane should read its own scans known to hold no people with "
    "`checkpoint-edge analyze --cleared` (at least 49 of them for a 2 % bound) and set its alert threshold from them.",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--report", required=True)
    ap.add_argument("--out", required=True, help="model folder (MODEL_CARD.md is written there)")
    args = ap.parse_args()
    with open(args.report) as f:
        report = json.load(f)
    report.setdefault("knownLimits", KNOWN_LIMITS)
    for name, key in (("held-out.json", "heldOutRun"), ("leave-one-out.json", "leaveOneOut")):
        path = os.path.join(args.out, name)
        if os.path.exists(path):
            with open(path) as f:
                report[key] = json.load(f)
    report["modelBytes"] = os.path.getsize(os.path.join(args.out, report["manifest"]["file"]))
    path = os.path.join(args.out, "MODEL_CARD.md")
    text = render(report, existing_eval_section(path))
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    print(f"model card: wrote {path}")


if __name__ == "__main__":
    main()
