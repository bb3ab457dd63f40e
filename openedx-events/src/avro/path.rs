//! Where in an event's data a value sits, for error messages: `enrollment.course.course_key`,
//! `tags[2]`, `labels["en"]`.

use std::fmt;

/// A path built from the inside out as an error travels up through the fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldPath(Vec<PathSegment>);

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathSegment {
    Field(&'static str),
    Index(usize),
    Key(String),
}

impl FieldPath {
    /// Adds the step that encloses the ones already there.
    pub(crate) fn push(&mut self, segment: PathSegment) {
        self.0.push(segment);
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().rev().enumerate() {
            match segment {
                PathSegment::Field(name) if i == 0 => f.write_str(name)?,
                PathSegment::Field(name) => write!(f, ".{name}")?,
                PathSegment::Index(index) => write!(f, "[{index}]")?,
                PathSegment::Key(key) => write!(f, "[{key:?}]")?,
            }
        }
        Ok(())
    }
}
