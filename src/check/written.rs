//! The target paths a scope's rules write, as a tree.
//!
//! Two rules may not write one place, nor a place and something inside it
//! (E0206), and every field of a target record must be written or said to
//! be optional (E0205, W0001). Both questions are a walk down this tree, so
//! checking a mapping of n rules is linear in n, not a scan of every earlier
//! rule per rule.

use crate::base::Span;
use std::collections::HashMap;

#[derive(Default)]
pub struct Written {
    /// The rule writing this place itself.
    at: Option<Span>,
    /// Places inside this one that rules write.
    below: HashMap<String, Written>,
}

impl Written {
    /// Records that the rule at `span` writes `path`. Err: the path of an
    /// earlier written place that is `path`, encloses it, or lies inside it,
    /// and the span of its rule.
    pub fn claim(&mut self, path: &[String], span: Span) -> Result<(), (Vec<String>, Span)> {
        let mut node = self;
        for (i, name) in path.iter().enumerate() {
            if let Some(first) = node.at {
                return Err((path[..i].to_vec(), first));
            }
            node = node.below.entry(name.clone()).or_default();
        }
        if let Some(first) = node.at {
            return Err((path.to_vec(), first));
        }
        if let Some((inner, first)) = node.first_inside() {
            let mut whole = path.to_vec();
            whole.extend(inner);
            return Err((whole, first));
        }
        node.at = Some(span);
        Ok(())
    }

    /// The written place inside this one whose rule comes first.
    fn first_inside(&self) -> Option<(Vec<String>, Span)> {
        self.below
            .iter()
            .filter_map(|(name, child)| {
                let (mut rest, span) = match child.at {
                    Some(span) => (Vec::new(), span),
                    None => child.first_inside()?,
                };
                rest.insert(0, name.clone());
                Some((rest, span))
            })
            .min_by_key(|(_, span)| span.start)
    }

    /// The subtree at `path`, if anything at or inside it is written.
    pub fn get(&self, path: &[String]) -> Option<&Written> {
        path.iter()
            .try_fold(self, |node, name| node.below.get(name))
    }

    /// The span of the rule writing this place, or else of the first rule
    /// writing inside it.
    pub fn first_rule(&self) -> Option<Span> {
        self.at
            .or_else(|| self.first_inside().map(|(_, span)| span))
    }

    /// Whether a rule writes this place itself.
    pub fn is_written(&self) -> bool {
        self.at.is_some()
    }

    /// Whether rules write places inside this one.
    pub fn has_inside(&self) -> bool {
        !self.below.is_empty()
    }

    /// The subtree of member `name`.
    pub fn member(&self, name: &str) -> Option<&Written> {
        self.below.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<String> {
        s.split('.').map(str::to_string).collect()
    }

    fn at(n: u32) -> Span {
        Span {
            start: n,
            end: n + 1,
        }
    }

    #[test]
    fn a_place_is_claimed_once_with_nothing_above_or_inside_it() {
        let mut w = Written::default();
        assert_eq!(w.claim(&p("a.b"), at(1)), Ok(()));
        assert_eq!(w.claim(&p("a.c"), at(2)), Ok(()));
        assert_eq!(w.claim(&p("a.b"), at(3)), Err((p("a.b"), at(1))));
        assert_eq!(w.claim(&p("a.b.x"), at(4)), Err((p("a.b"), at(1))));
        // Inside: the first rule of the places inside is named.
        assert_eq!(w.claim(&p("a"), at(5)), Err((p("a.b"), at(1))));
        assert!(
            w.get(&p("a"))
                .is_some_and(|a| a.has_inside() && !a.is_written())
        );
        assert!(w.get(&p("a.c")).is_some_and(Written::is_written));
        assert!(w.get(&p("z")).is_none());
    }
}
