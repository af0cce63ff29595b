"""Independent reference evaluator for LightGBM text models (pure Python, written from LightGBM's
C++ Tree::NumericalDecision / CategoricalDecision semantics, not from riskloop's TypeScript).
Usage: python3 lgb_reference.py MODEL.txt ROWS.csv  → prints "raw,transformed" per row (repr floats).
ROWS.csv: header of feature names, then numbers; empty or NaN = missing."""
import math, sys

def parse(path):
    lines = open(path).read().split("\n")
    header, trees, cur = {}, [], None
    for line in lines:
        if line.startswith("Tree="):
            cur = {}
            trees.append(cur)
            continue
        if line.strip() in ("end of trees", "feature importances:", "feature_importances:"):
            cur = None
            if line.strip() != "end of trees":
                break
            continue
        if "=" in line:
            k, v = line.split("=", 1)
            (cur if cur is not None else header)[k.strip()] = v.strip()
    return header, trees

def ints(s): return [int(x) for x in s.split()] if s else []
def floats(s): return [float(x) for x in s.split()] if s else []

K_ZERO = 1e-35

def decide(t, node, fval):
    dt = t["dt"][node]
    if dt & 1:  # categorical
        if math.isnan(fval):
            return t["right"][node]
        ival = int(fval)  # C++ static_cast<int>: truncation toward zero
        if ival < 0:
            return t["right"][node]
        ci = int(t["thr"][node])
        lo, hi = t["cb"][ci], t["cb"][ci + 1]
        word = ival // 32
        if word < hi - lo and (t["ct"][lo + word] >> (ival % 32)) & 1:
            return t["left"][node]
        return t["right"][node]
    missing = (dt >> 2) & 3
    if math.isnan(fval) and missing != 2:
        fval = 0.0
    if (missing == 1 and -K_ZERO <= fval <= K_ZERO) or (missing == 2 and math.isnan(fval)):
        return t["left"][node] if dt & 2 else t["right"][node]
    return t["left"][node] if fval <= t["thr"][node] else t["right"][node]

def main():
    header, raw_trees = parse(sys.argv[1])
    trees = []
    for r in raw_trees:
        trees.append(dict(n=int(r["num_leaves"]), leaf=floats(r["leaf_value"]), f=ints(r.get("split_feature")),
                          thr=floats(r.get("threshold")), dt=ints(r.get("decision_type")), left=ints(r.get("left_child")),
                          right=ints(r.get("right_child")), cb=ints(r.get("cat_boundaries")), ct=ints(r.get("cat_threshold"))))
    obj = header.get("objective", "regression").split()
    sigmoid = 1.0
    for part in obj[1:]:
        if part.startswith("sigmoid:"):
            sigmoid = float(part.split(":")[1])
    rows = open(sys.argv[2]).read().strip().split("\n")[1:]
    for row in rows:
        x = [float("nan") if v.strip() in ("", "NaN", "nan") else float(v) for v in row.split(",")]
        raw = 0.0
        for t in trees:
            if t["n"] == 1:
                raw += t["leaf"][0]
                continue
            node = 0
            while node >= 0:
                node = decide(t, node, x[t["f"][node]])
            raw += t["leaf"][~node]
        out = 1.0 / (1.0 + math.exp(-sigmoid * raw)) if obj[0] == "binary" else raw
        print(f"{raw!r},{out!r}")

main()
