//! Evaluation: a labelled synthetic clinical corpus and a scorer.
