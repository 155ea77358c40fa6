"""String ops shared by the apps' in-graph tokenisers."""


def lower(texts):
    """Unicode-aware lower case of strings [...] -> [...].

    tf.strings.lower(encoding="utf-8") silently drops everything from a NUL
    byte on ("a\\x00b" -> "a"), so NULs become spaces first.
    """
    import tensorflow as tf

    return tf.strings.lower(tf.strings.regex_replace(texts, "\x00", " "), encoding="utf-8")
