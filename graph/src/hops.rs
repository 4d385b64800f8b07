//! Proximity to fraud as a field: for every node, the hops to the nearest fraud-marked
//! entity, up to the configured bound (`FAR` beyond). A score reads it in O(1) instead of
//! searching the neighbourhood on every decision. Owns the propagation rules; the link
//! graph decides when to call them.
//!
//! Rules: a mark sets 0 and spreads outwards breadth-first; a new link relaxes both ends;
//! an unmark repairs the ball around the node. IPs are weak: they take a value only from
//! their own mark and pass proximity on only when they are themselves marked, so one
//! fraudster behind an office IP does not put the whole office two hops from fraud. A
//! shielded entity (the established side of a fraud-labelled decision: the victim's account,
//! e-mail, card) is weak in the same way, so a takeover's links do not put the victim next to
//! the fraudster's device.
//! Removing links can only lengthen distances; the field is rebuilt from the marks by every
//! maintenance pass, and between passes it errs towards "closer to fraud".

use std::collections::{HashSet, VecDeque};

use petgraph::graph::NodeIndex;

use crate::node::Inner;

/// No fraud within the bound.
pub(crate) const FAR: u8 = u8::MAX;

/// IPs, and entities shielded as a fraud's victim side.
fn weak(g: &Inner, n: u32) -> bool {
    g[NodeIndex::new(n as usize)].is_weak()
}

/// Whether `n` passes proximity on to its neighbours.
fn spreads(g: &Inner, field: &[u8], n: u32) -> bool {
    !weak(g, n) || field[n as usize] == 0
}

fn neighbours(g: &Inner, n: u32) -> impl Iterator<Item = u32> + '_ {
    g.neighbors(NodeIndex::new(n as usize))
        .map(|m| crate::groups::index(m.index()))
}

/// Spreads the value of `from` outwards, lowering neighbours' values, until the bound or
/// `budget` visited nodes. Returns the nodes visited.
pub(crate) fn spread(g: &Inner, field: &mut [u8], from: u32, max: u8, budget: usize) -> usize {
    let mut queue = VecDeque::from([from]);
    let mut visited = 0usize;
    while let Some(n) = queue.pop_front() {
        visited += 1;
        if visited > budget {
            return visited;
        }
        let d = field[n as usize];
        if d >= max || !spreads(g, field, n) {
            continue;
        }
        for m in neighbours(g, n) {
            if !weak(g, m) && d + 1 < field[m as usize] {
                field[m as usize] = d + 1;
                queue.push_back(m);
            }
        }
    }
    visited
}

/// A link between `a` and `b` was added: relax both ends.
pub(crate) fn relax(g: &Inner, field: &mut [u8], a: u32, b: u32, max: u8, budget: usize) {
    for (x, y) in [(a, b), (b, a)] {
        let d = field[x as usize];
        if d < max && spreads(g, field, x) && !weak(g, y) && d + 1 < field[y as usize] {
            field[y as usize] = d + 1;
            spread(g, field, y, max, budget);
        }
    }
}

/// `n` lost its mark: recompute the ball of radius `max` around it (every value that could
/// have come through `n`) from the marks inside and the valid values just outside.
pub(crate) fn repair(
    g: &Inner,
    field: &mut [u8],
    n: u32,
    marked: impl Fn(u32) -> bool,
    max: u8,
    budget: usize,
) {
    // The ball, walked the way proximity spreads (n itself spread while marked).
    let mut ball = vec![n];
    let mut inside = HashSet::from([n]);
    let mut frontier = vec![n];
    for _ in 0..max {
        let mut next = Vec::new();
        for &x in &frontier {
            if x != n && weak(g, x) {
                continue;
            }
            for y in neighbours(g, x) {
                if ball.len() < budget && inside.insert(y) {
                    ball.push(y);
                    next.push(y);
                }
            }
        }
        frontier = next;
    }
    for &x in &ball {
        field[x as usize] = if marked(x) { 0 } else { FAR };
    }
    // Values from just outside the ball are still valid: a path through `n` to them is
    // longer than the bound.
    for &x in &ball {
        if weak(g, x) {
            continue;
        }
        for y in neighbours(g, x) {
            let d = field[y as usize];
            if !inside.contains(&y) && d < max && spreads(g, field, y) && d + 1 < field[x as usize]
            {
                field[x as usize] = d + 1;
            }
        }
    }
    ball.sort_by_key(|&x| field[x as usize]);
    for x in ball {
        if field[x as usize] < max {
            spread(g, field, x, max, budget);
        }
    }
}
