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

/// Keeps the best non-overlapping candidates, sorted by start.
pub(crate) fn resolve(candidates: &mut Vec<Candidate>) {
    if candidates.len() < 2 {
        return;
    }
    // Unstable: `rank` ties only identical candidates, whose order cannot matter; the stable sort allocated a buffer
    // for more than twenty.
    candidates.sort_unstable_by(rank);
    candidates.dedup_by(|a, b| a.start == b.start && a.end == b.end);
    // The kept candidates are gathered at the front of the same list (no second one to allocate): at most as many are
    // kept as have been read, so inserting one never overwrites a candidate still to be read.
    let mut kept = 0;
    for i in 0..candidates.len() {
        let c = candidates[i];
        // `candidates[..kept]` is sorted by start: the only possible overlaps are the neighbours of c's insertion point.
        let at = candidates[..kept].partition_point(|k| k.start < c.start);
        let clashes_before = at > 0 && candidates[at - 1].end > c.start;
        let clashes_after = at < kept && candidates[at].start < c.end;
        if !clashes_before && !clashes_after {
            candidates.copy_within(at..kept, at + 1);
            candidates[at] = c;
            kept += 1;
        }
    }
    candidates.truncate(kept);
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
