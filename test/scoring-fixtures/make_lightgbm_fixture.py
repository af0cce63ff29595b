"""Writes lightgbm-binary-handmade.txt: a LightGBM v4 text model written by hand in the real format,
exercising every decision_type case (NaN / Zero / None missing types, default left and right,
a categorical split whose bitset spans two 32-bit words, a single-leaf tree) and a sigmoid other than 1.
Run: /usr/bin/python3 make_lightgbm_fixture.py"""

trees = [
    # node0: f0 <= 1.5, missing NaN, default left (2 | 2<<2 = 10)
    # node1: f2 categorical, categories {1, 3, 33, 35} go left (1 | 2<<2 = 9)
    # node2: f1 <= 0, missing Zero, default right (1<<2 = 4)
    dict(num_leaves=4, num_cat=1, split_feature="0 2 1", split_gain="10.5 4.25 3.125", threshold="1.5 0 0",
         decision_type="10 9 4", left_child="1 -1 -3", right_child="2 -2 -4",
         leaf_value="0.20000000000000001 -0.10000000000000001 0.34999999999999998 -0.45000000000000001",
         leaf_weight="7.5 5 6.25 6.25", leaf_count="30 20 25 25", internal_value="0 0.080000000000000002 -0.050000000000000003",
         internal_weight="25 12.5 12.5", internal_count="100 50 50", cat_boundaries="0 2", cat_threshold="10 10"),
    # node0: f1 <= -0.5, missing None (NaN reads as 0), default right (0)
    # node1: f0 <= 3.25, missing NaN, default right (2<<2 = 8)
    dict(num_leaves=3, num_cat=0, split_feature="1 0", split_gain="2.5 1.25", threshold="-0.5 3.25",
         decision_type="0 8", left_child="-1 -2", right_child="1 -3",
         leaf_value="0.050000000000000003 -0.070000000000000007 0.11", leaf_weight="10 8 7", leaf_count="40 32 28",
         internal_value="0 0.01", internal_weight="25 15", internal_count="100 60"),
    dict(num_leaves=1, leaf_value="0.013"),
]

def tree_text(i, t):
    keys = ["num_leaves", "num_cat", "split_feature", "split_gain", "threshold", "decision_type", "left_child",
            "right_child", "leaf_value", "leaf_weight", "leaf_count", "internal_value", "internal_weight",
            "internal_count", "cat_boundaries", "cat_threshold"]
    body = "".join(f"{k}={t[k]}\n" for k in keys if k in t)
    return f"Tree={i}\n" + body + "is_linear=0\nshrinkage=1\n\n" + "\n"

blocks = [tree_text(i, t) for i, t in enumerate(trees)]
header = (
    "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\nmax_feature_idx=2\n"
    "objective=binary sigmoid:0.8\nfeature_names=amount utilisation segment\n"
    "feature_infos=[-10:10] [-5:5] 0:1:3:33:35:2\n"
    f"tree_sizes={' '.join(str(len(b)) for b in blocks)}\n\n"
)
with open("lightgbm-binary-handmade.txt", "w") as f:
    f.write(header + "".join(blocks) + "end of trees\n\nfeature_importances:\namount=2\nutilisation=2\nsegment=1\n\nparameters:\n[boosting: gbdt]\n[objective: binary]\n[sigmoid: 0.8]\nend of parameters\n\npandas_categorical:null\n")
