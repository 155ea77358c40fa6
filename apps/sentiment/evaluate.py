"""Scores of a trained sentiment model: pure functions, no printing."""

import numpy as np

from apps.common.evaluation import compiled, map_batches


def predict_scores(model, dataset):
    """(true labels [N] int, positive-class probabilities [N]) over batches of (ids [B, T], labels [B])."""
    import tensorflow as tf

    step = compiled(lambda ids, labels: (tf.reshape(model(ids, training=False), [-1]), labels))
    outputs = map_batches(step, dataset, description="scoring")
    if not outputs:
        return np.zeros(0, int), np.zeros(0, "float32")
    return (np.concatenate([labels for _, labels in outputs]).astype(int),
            np.concatenate([scores for scores, _ in outputs]))


def classification_report(model, dataset, names):
    """Accuracy, precision, recall, F1, ROC AUC (None with one class) and the confusion matrix, as a dict."""
    from sklearn import metrics

    truth, scores = predict_scores(model, dataset)
    predicted = (scores >= 0.5).astype(int)
    return {
        "examples": int(len(truth)),
        "accuracy": float(metrics.accuracy_score(truth, predicted)),
        "precision": float(metrics.precision_score(truth, predicted, zero_division=0)),
        "recall": float(metrics.recall_score(truth, predicted, zero_division=0)),
        "f1": float(metrics.f1_score(truth, predicted, zero_division=0)),
        "roc_auc": float(metrics.roc_auc_score(truth, scores)) if len(set(truth)) == 2 else None,
        "confusion_matrix": {"labels": names,
                             "rows_true_columns_predicted": metrics.confusion_matrix(truth, predicted,
                                                                                     labels=[0, 1]).tolist()},
    }
