//! Typed ids for the rows that cross modules, so that a user's id cannot
//! be passed where an article's is meant. Stored as `BIGINT`; queries take
//! the number with `get()`, rows read it with `#[diesel(deserialize_as =
//! i64)]`.

use std::fmt;

/// Declares an id type over `i64`.
macro_rules! id_types {
    ($($(#[$meta:meta])* $name:ident;)*) => {$(
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// The number, as stored.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_types! {
    /// A user account's id.
    UserId;
    /// An article's id.
    ArticleId;
    /// A topic's id.
    TopicId;
    /// An author's id.
    AuthorId;
    /// A source's id.
    SourceId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_number_in_text_and_json() {
        let id = UserId::from(42);
        assert_eq!(id.get(), 42);
        assert_eq!(id.to_string(), "42");
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(
            serde_json::from_str::<ArticleId>("7").unwrap(),
            ArticleId::from(7)
        );
    }
}
