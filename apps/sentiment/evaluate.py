"""Scores of a trained sentiment model: pure functions, no printing."""

import numpy as np

from apps.common.evaluation import compiled, map_batches

from .model import positive_probability


def predict_scores(model, dataset):
    """(true labels [N] int, positive-class probabilities [N]) over batches of (ids [B, T], labels [B])."""
    step = compiled(lambda ids, labels: (positive_probability(model, ids), labels))
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


def evaluate_run(trained, test_file=None, dataset=None, split="test", batch_size=256):
    """classification_report of a TrainedRun on a labelled file or a tfds split, with the data it names."""
    from datasets.text_classification import display_names, make_dataset

    from .data import evaluation_source, load_evaluation_data

    options = trained.options
    if options.get("pipeline") == "stream":  # read as it streams: a test file or tfds split of any size
        from .data import streamed_evaluation_dataset

        ds = streamed_evaluation_dataset(options, trained.encoders, test_file, batch_size, dataset, split)
    else:
        texts, labels = load_evaluation_data(options, options.labels, test_file, dataset, split)
        ds = make_dataset(texts, labels, trained.encoders, batch_size=batch_size, max_length=options.max_length,
                          shuffle=False, seed=0)
    return {**classification_report(trained.model, ds, display_names(options.labels)),
            "data": evaluation_source(options, test_file, dataset, split)}


def report(result):
    """The printed form of a classification_report: metrics, then the confusion matrix."""
    from apps.common.cli import format_table

    names = result["confusion_matrix"]["labels"]
    matrix = result["confusion_matrix"]["rows_true_columns_predicted"]
    metrics = format_table([(k, "-" if result[k] is None else f"{result[k]:.4f}")
                            for k in ("accuracy", "precision", "recall", "f1", "roc_auc")], ["metric", "value"])
    confusion = format_table([[names[i], *map(str, matrix[i])] for i in range(2)], ["", *names])
    return f"{metrics}\n\nconfusion matrix (rows: true, columns: predicted)\n{confusion}"
