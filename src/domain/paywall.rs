//! Who may read an article's whole body.
//!
//! Until metering ships, every reader is anonymous and has no free metered
//! articles left: free articles are whole, everything else is a preview.

use serde::Serialize;
use utoipa::ToSchema;

use super::article::AccessLevel;

/// The reader asking for an article.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// No credentials and no meter allowance.
    Anonymous,
}

/// Why a reader gets (or does not get) the whole article.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessReason {
    /// The article is free for everyone.
    Free,
    /// The reader holds a subscription.
    Subscriber,
    /// The reader is an editor or an admin.
    Staff,
    /// The reader's monthly meter allows this metered article.
    Meter,
    /// The reader's monthly allowance of metered articles is used up.
    LimitReached,
    /// The article is for subscribers only.
    Premium,
}

/// The outcome of the paywall for one reader and one article.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Whether the whole body may be shown.
    pub full: bool,
    /// Why.
    pub reason: AccessReason,
}

/// Decides whether `reader` may read an article of `level` whole.
pub fn decide(level: AccessLevel, reader: Reader) -> Access {
    match (level, reader) {
        (AccessLevel::Free, _) => Access {
            full: true,
            reason: AccessReason::Free,
        },
        (AccessLevel::Metered, Reader::Anonymous) => Access {
            full: false,
            reason: AccessReason::LimitReached,
        },
        (AccessLevel::Premium, Reader::Anonymous) => Access {
            full: false,
            reason: AccessReason::Premium,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_free_articles_are_whole_for_an_anonymous_reader() {
        for level in AccessLevel::ALL {
            let access = decide(*level, Reader::Anonymous);
            assert_eq!(access.full, *level == AccessLevel::Free, "{level}");
        }
    }

    #[test]
    fn the_reason_says_why() {
        assert_eq!(
            decide(AccessLevel::Free, Reader::Anonymous).reason,
            AccessReason::Free
        );
        assert_eq!(
            decide(AccessLevel::Metered, Reader::Anonymous).reason,
            AccessReason::LimitReached
        );
        assert_eq!(
            decide(AccessLevel::Premium, Reader::Anonymous).reason,
            AccessReason::Premium
        );
    }
}
