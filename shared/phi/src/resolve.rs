//! Overlap resolution: the one rule that turns overlapping candidates into disjoint entities.
//!
//! Candidates are ranked by, in order: higher score; longer span; type in taxonomy order (`PERSON` before
//! `ADDRESS` ...); earlier start. Walking that ranking, a candidate is kept when it overlaps none already kept.
//! The result is sorted by start. The ranking is a total order on distinct candidates, so the outcome does not
//! depend on the order detectors produced them in.

use std::cmp::Ordering;

use crate::detect::Candidate;

fn rank(a: &Candidate, b: &Candidate) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then_with(|| (b.end - b.start).cmp(&(a.end - a.start)))
        .then_with(|| a.entity_type.cmp(&b.entity_type))
        .then_with(|| a.start.cmp(&b.start))
}

/// Keeps the best non-overlapping candidates (each non-empty: the caller keeps only those), sorted by start.
///
/// Whether a candidate is kept depends only on the candidates it overlaps, so the ranking is walked apart in each run
/// of candidates that overlap one another (in start order, each starting before the end of one before it): most
/// candidates overlap none and are kept as they are, and only the few that do are sorted by rank. Sorting every
/// candidate by rank cost more than the rest of the resolution.
pub(crate) fn resolve(candidates: &mut Vec<Candidate>) {
    debug_assert!(candidates.iter().all(|c| c.end > c.start), "an empty candidate");
    if candidates.len() < 2 {
        return;
    }
    candidates.sort_unstable_by_key(|c| c.start);
    // The kept candidates are gathered at the front of the same list: at most as many are kept as have been read.
    let mut kept = 0;
    let mut run = 0;
    while run < candidates.len() {
        let mut end = candidates[run].end;
        let mut next = run + 1;
        while next < candidates.len() && candidates[next].start < end {
            end = end.max(candidates[next].end);
            next += 1;
        }
        if next - run == 1 {
            candidates[kept] = candidates[run];
            kept += 1;
        } else {
            let kept_in_run = resolve_run(&mut candidates[run..next]);
            candidates.copy_within(run..run + kept_in_run, kept);
            kept += kept_in_run;
        }
        run = next;
    }
    candidates.truncate(kept);
}

/// Keeps the best non-overlapping candidates of `run`, gathered at its front sorted by start; returns how many. (Two
/// candidates with the same span need no merging: the second in the ranking clashes with the first, or with what
/// kept the first out.)
fn resolve_run(run: &mut [Candidate]) -> usize {
    // Unstable: `rank` ties only identical candidates, whose order cannot matter.
    run.sort_unstable_by(rank);
    let mut kept = 0;
    for i in 0..run.len() {
        let c = run[i];
        // `run[..kept]` is sorted by start: the only possible overlaps are the neighbours of c's insertion point.
        let at = run[..kept].partition_point(|k| k.start < c.start);
        let clashes_before = at > 0 && run[at - 1].end > c.start;
        let clashes_after = at < kept && run[at].start < c.end;
        if !clashes_before && !clashes_after {
            if at < kept {
                run.copy_within(at..kept, at + 1);
            }
            run[at] = c;
            kept += 1;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::EntityType;

    fn c(start: usize, end: usize, entity_type: EntityType, score: f32) -> Candidate {
        Candidate { start, end, entity_type, score }
    }

    #[test]
    fn higher_score_wins_then_longer_span_then_taxonomy_order() {
        let mut v = vec![
            c(0, 10, EntityType::City, 0.7),
            c(0, 5, EntityType::Person, 0.9),
            c(20, 30, EntityType::Zip, 0.8),
            c(20, 25, EntityType::Phone, 0.8),
            c(40, 45, EntityType::Mrn, 0.8),
            c(40, 45, EntityType::Person, 0.8),
        ];
        resolve(&mut v);
        assert_eq!(
            v,
            vec![c(0, 5, EntityType::Person, 0.9), c(20, 30, EntityType::Zip, 0.8), c(40, 45, EntityType::Person, 0.8)]
        );
    }

    /// The resolution as it was first written: every candidate sorted by rank, then kept unless it overlaps one kept.
    fn resolve_by_rank(candidates: &mut Vec<Candidate>) {
        candidates.sort_unstable_by(rank);
        candidates.dedup_by(|a, b| a.start == b.start && a.end == b.end);
        let mut kept: Vec<Candidate> = Vec::new();
        for c in candidates.drain(..) {
            if kept.iter().all(|k| k.end <= c.start || c.end <= k.start) {
                kept.push(c);
            }
        }
        kept.sort_by_key(|k| k.start);
        *candidates = kept;
    }

    proptest::proptest! {
        #[test]
        fn runs_of_overlapping_candidates_resolve_as_the_whole_ranking_does(
            spans in proptest::collection::vec((0usize..60, 1usize..12, 0usize..23, 0u8..4), 0..24)
        ) {
            let scores = [0.7f32, 0.85, 0.9, 0.95];
            let mut ours: Vec<Candidate> = spans
                .iter()
                .map(|&(start, len, t, s)| c(start, start + len, EntityType::ALL[t], scores[usize::from(s)]))
                .collect();
            let mut expected = ours.clone();
            resolve(&mut ours);
            resolve_by_rank(&mut expected);
            proptest::prop_assert_eq!(ours, expected);
        }
    }

    #[test]
    fn result_does_not_depend_on_input_order() {
        let a = vec![c(0, 4, EntityType::Date, 0.9), c(2, 8, EntityType::Phone, 0.9), c(6, 9, EntityType::Ssn, 0.95)];
        let mut b = a.clone();
        b.reverse();
        let mut a = a;
        resolve(&mut a);
        resolve(&mut b);
        assert_eq!(a, b);
    }
}
