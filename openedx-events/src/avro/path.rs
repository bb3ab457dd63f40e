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

/// The methods every error with a [`FieldPath`] in a `path` field has: the error travels up
/// through fields, items and keys, each adding its step.
macro_rules! path_methods {
    ($error:ty) => {
        impl $error {
            /// The same error, inside the named field.
            pub fn in_field(mut self, name: &'static str) -> Self {
                self.path.push($crate::avro::path::PathSegment::Field(name));
                self
            }

            /// The same error, inside the item at this index of an array.
            pub fn at_index(mut self, index: usize) -> Self {
                self.path.push($crate::avro::path::PathSegment::Index(index));
                self
            }

            /// The same error, inside the value of this key of a map.
            pub fn at_key(mut self, key: &str) -> Self {
                self.path.push($crate::avro::path::PathSegment::Key(key.to_owned()));
                self
            }

            /// Where, as a dotted path such as `enrollment.course.course_key` or `tags[2]`;
            /// empty at the top level.
            pub fn path(&self) -> String {
                self.path.to_string()
            }
        }
    };
}

pub(crate) use path_methods;
