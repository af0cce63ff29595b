"""Trains an XGBoost model for riskloop's import test and writes the model (save_model JSON) and
XGBoost's own predictions. Usage: python3 xgb_train.py DATA.csv OUTDIR [base_score]
DATA.csv: header, features then a last column `bad`; empty cells are missing."""
import csv, json, sys
import numpy as np
import xgboost as xgb

path, out = sys.argv[1], sys.argv[2]
with open(path) as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
X = np.array([[float(v) if v != "" else np.nan for v in r[:-1]] for r in body], dtype=np.float64)
y = np.array([float(r[-1]) for r in body])
params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 4, "eta": 0.1, "nthread": 1, "seed": 0}
if len(sys.argv) > 3:
    params["base_score"] = float(sys.argv[3])
d = xgb.DMatrix(X, label=y, missing=np.nan, feature_names=header[:-1])
b = xgb.train(params, d, 40)
b.save_model(out + "/model.json")
p = b.predict(xgb.DMatrix(X, missing=np.nan, feature_names=header[:-1]))
m = b.predict(xgb.DMatrix(X, missing=np.nan, feature_names=header[:-1]), output_margin=True)
with open(out + "/pred.json", "w") as f:
    json.dump({"version": xgb.__version__, "prob": [float(v) for v in p], "margin": [float(v) for v in m]}, f)
