//! Generated articles in bulk, for benchmarks: realistic sizes, every field
//! filled, deterministic (the same N gives the same articles), and fast.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::RunQueryDsl;

use super::{SeedError, SeedReport, insert_catalogue};
use crate::clock::Clock;
use crate::db::DbConnection;
use crate::db::articles::{
    BulkArticles, NewArticle, NewArticleWithId, NewBody, insert_bulk, max_id, sync_id_sequences,
};
use crate::db::catalogue::all_ids;
use crate::domain::article::{AccessLevel, ArticleKind, ArticleStatus};
use crate::domain::markdown::{self, RenderedBody};

/// Rows per multi-row INSERT: 31 columns each stays far below both backends' parameter limits.
const BATCH: usize = 500;
/// Batches per transaction.
const BATCHES_PER_TX: usize = 10;

/// Inserts `n` generated articles (and the demo catalogue if there is none).
pub fn synthetic(conn: &mut DbConnection, n: u32) -> Result<SeedReport, SeedError> {
    let mut ids = all_ids(conn)?;
    if ids.topics.is_empty() || ids.authors.is_empty() || ids.sources.is_empty() {
        crate::db::transaction(conn, |conn| {
            insert_catalogue(conn, Clock::System.now()).map(|_| ())
        })?;
        ids = all_ids(conn)?;
    }
    let first_id = max_id(conn)? + 1;
    let generator = Generator {
        topics: ids.topics,
        authors: ids.authors,
        sources: ids.sources,
        base: base_time(),
    };
    let n = n as usize;
    let mut done = 0;
    while done < n {
        let chunk = (n - done).min(BATCH * BATCHES_PER_TX);
        crate::db::transaction(conn, |conn| {
            let mut offset = 0;
            while offset < chunk {
                let size = (chunk - offset).min(BATCH);
                let start = done + offset;
                let owned: Vec<Generated> = (start..start + size)
                    .map(|i| generator.article(i, first_id + i as i64))
                    .collect();
                insert_bulk(conn, &bulk(&owned))?;
                offset += size;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
        done += chunk;
    }
    sync_id_sequences(conn)?;
    // The planner's statistics still describe the tables before the bulk
    // load until autovacuum comes by: at 100,000 articles a search planned on
    // them walked every article (1.4 s instead of 0.5 s).
    // (SQLite plans without statistics well enough.)
    if matches!(conn, DbConnection::Postgres(_)) {
        diesel::sql_query("ANALYZE").execute(conn)?;
    }
    Ok(SeedReport { articles: n })
}

/// The newest generated article is published at this instant; older ones follow every few minutes.
fn base_time() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 1)
        .and_then(|d| d.and_hms_opt(6, 0, 0))
        .unwrap_or_default()
}

/// A small, fast, deterministic pseudo-random sequence (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn text(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }
}

struct Generator {
    topics: Vec<i64>,
    authors: Vec<i64>,
    sources: Vec<(i64, String)>,
    base: NaiveDateTime,
}

struct Generated {
    id: i64,
    slug: String,
    headline: String,
    dek: String,
    markdown: String,
    body: RenderedBody,
    dateline: &'static str,
    kind: ArticleKind,
    access: AccessLevel,
    source: Option<(i64, String)>,
    original_title: String,
    original_url: String,
    featured_rank: Option<i32>,
    published_at: NaiveDateTime,
    author_ids: Vec<i64>,
    topic_ids: Vec<i64>,
}

impl Generator {
    fn article(&self, index: usize, id: i64) -> Generated {
        let mut rng = Rng(index as u64 ^ 0x6E65_7773);
        let headline = format!(
            "{} {} {}",
            rng.pick(SUBJECTS),
            rng.pick(VERBS),
            rng.pick(OBJECTS)
        );
        let slug = format!("{}-{id}", slugify(&headline));
        let dek = format!("{} {}", rng.pick(SENTENCES), rng.pick(SENTENCES));
        let markdown = body_markdown(&mut rng);
        let body = markdown::render(&markdown);
        let kind = match rng.below(20) {
            0..=11 => ArticleKind::News,
            12..=16 => ArticleKind::Analysis,
            17..=18 => ArticleKind::Opinion,
            _ => ArticleKind::Video,
        };
        let access = match rng.below(20) {
            0..=7 => AccessLevel::Free,
            8..=16 => AccessLevel::Metered,
            _ => AccessLevel::Premium,
        };
        let source = (rng.below(10) < 8).then(|| rng.pick(&self.sources).clone());
        let mut topic_ids = vec![*rng.pick(&self.topics)];
        for _ in 0..rng.below(3) {
            let extra = *rng.pick(&self.topics);
            if !topic_ids.contains(&extra) {
                topic_ids.push(extra);
            }
        }
        let mut author_ids = vec![*rng.pick(&self.authors)];
        if rng.below(4) == 0 {
            let second = *rng.pick(&self.authors);
            if second != author_ids[0] {
                author_ids.push(second);
            }
        }
        Generated {
            id,
            original_title: format!(
                "{} ({})",
                headline,
                source.as_ref().map(|s| s.1.as_str()).unwrap_or("")
            ),
            original_url: format!("https://source.example/{id}"),
            slug,
            headline,
            dek,
            markdown,
            body,
            dateline: rng.text(DATELINES),
            kind,
            access,
            source,
            featured_rank: (index < 5).then_some(index as i32 + 1),
            published_at: self.base
                - Duration::minutes(5 * index as i64)
                - Duration::seconds(rng.below(240) as i64),
            author_ids,
            topic_ids,
        }
    }
}

fn bulk(rows: &[Generated]) -> BulkArticles<'_> {
    BulkArticles {
        articles: rows
            .iter()
            .map(|g| NewArticleWithId {
                id: g.id,
                article: NewArticle {
                    slug: &g.slug,
                    headline: &g.headline,
                    dek: &g.dek,
                    dateline: Some(g.dateline),
                    hero_image_url: Some("https://images.newsdesk.example/synthetic/hero.jpg"),
                    hero_image_alt: Some("A generated placeholder picture"),
                    hero_image_caption: Some("Generated for benchmarks"),
                    hero_image_credit: Some("newsdesk"),
                    kind: g.kind.as_str(),
                    video_url: (g.kind == ArticleKind::Video)
                        .then_some("https://video.newsdesk.example/synthetic.mp4"),
                    original_source_id: g.source.as_ref().map(|s| s.0),
                    original_language: g.source.as_ref().map(|s| s.1.as_str()),
                    original_title: g.source.as_ref().map(|_| g.original_title.as_str()),
                    original_url: g.source.as_ref().map(|_| g.original_url.as_str()),
                    translator: g.source.as_ref().map(|_| "The newsdesk translation team"),
                    status: ArticleStatus::Published.as_str(),
                    access_level: g.access.as_str(),
                    featured: g.featured_rank.is_some(),
                    featured_rank: g.featured_rank,
                    publish_at: Some(g.published_at),
                    published_at: Some(g.published_at),
                    word_count: g.body.word_count as i32,
                    reading_time_minutes: g.body.reading_time_minutes as i32,
                    created_at: g.published_at,
                    updated_at: g.published_at,
                },
            })
            .collect(),
        bodies: rows
            .iter()
            .map(|g| {
                let body = NewBody {
                    markdown: &g.markdown,
                    rendered: &g.body,
                };
                (g.id, body)
            })
            .collect(),
        bylines: rows
            .iter()
            .flat_map(|g| {
                g.author_ids
                    .iter()
                    .enumerate()
                    .map(move |(pos, a)| (g.id, *a, pos as i32))
            })
            .collect(),
        topics: rows
            .iter()
            .flat_map(|g| {
                g.topic_ids
                    .iter()
                    .enumerate()
                    .map(move |(pos, t)| (g.id, *t, pos == 0))
            })
            .collect(),
    }
}

fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

fn body_markdown(rng: &mut Rng) -> String {
    let paragraphs = 7 + rng.below(4);
    let mut md = String::with_capacity(4096);
    for p in 0..paragraphs {
        if p == 2 || p == 5 {
            md.push_str("## ");
            md.push_str(rng.text(HEADINGS));
            md.push_str("\n\n");
        }
        for s in 0..4 + rng.below(3) {
            if s > 0 {
                md.push(' ');
            }
            md.push_str(rng.text(SENTENCES));
        }
        md.push_str("\n\n");
    }
    md
}

const SUBJECTS: &[&str] = &[
    "Port workers",
    "Regional governors",
    "Grain traders",
    "Chip makers",
    "Rail operators",
    "Fishing fleets",
    "Central bankers",
    "City councils",
    "Wind developers",
    "Coffee growers",
    "Teachers' unions",
    "Border towns",
    "Shipyards",
    "Steelworkers",
    "Pension funds",
];
const VERBS: &[&str] = &[
    "brace for",
    "push back against",
    "quietly adapt to",
    "count the cost of",
    "bet on",
    "look beyond",
    "wait out",
    "lobby over",
    "rethink",
    "test",
];
const OBJECTS: &[&str] = &[
    "an early winter",
    "a new export quota",
    "the price war",
    "rising rents",
    "the drought",
    "a stalled cable",
    "tighter budgets",
    "the new rulebook",
    "a record harvest",
    "automation",
    "the energy transition",
    "cheaper imports",
    "the labour shortage",
    "an ageing fleet",
];
const HEADINGS: &[&str] = &[
    "What changed this year",
    "The numbers behind it",
    "Who pays",
    "A slow response",
    "What comes next",
    "Local voices",
    "The view from the capital",
    "Old habits",
];
const DATELINES: &[&str] = &[
    "VLADIVOSTOK",
    "LYON",
    "SHENZHEN",
    "BREMERHAVEN",
    "BUENOS AIRES",
    "BEIRUT",
    "BARREIRAS",
    "WARSAW",
    "ONOMICHI",
    "GENOA",
    "BRUSSELS",
];
const SENTENCES: &[&str] = &[
    "Officials in the regional capital say the figures for the first half of the year were worse than expected.",
    "Local businesses describe a season in which orders arrived late, in smaller batches and with tighter terms.",
    "The ministry has promised a response before the end of the quarter, without saying what it will contain.",
    "Residents interviewed over several days said their main concern was not the headline numbers but the monthly bills.",
    "Economists at a local university caution that the data is incomplete and often revised months later.",
    "The change was announced with little debate and has taken effect faster than most people expected.",
    "Several companies have postponed investment decisions until the rules are clearer.",
    "Trade unions argue that workers have carried most of the cost of adjustment so far.",
    "A spokesman for the operator said the delays were regrettable but beyond the company's control.",
    "Neighbouring regions have tried similar schemes, with mixed results that both sides cite as evidence.",
    "The most visible effect has been on prices, which rose sharply in the spring and have not come down.",
    "Farmers say the weather has become harder to predict and the insurance harder to afford.",
    "Young people in the town increasingly look for work elsewhere, and many do not come back.",
    "The project was planned a decade ago, when interest rates were low and demand seemed certain.",
    "Critics say the consultation was too short and the documents too technical for most residents.",
    "Supporters point out that the alternative would have been more expensive and slower still.",
    "A report by the regional audit office found that only part of the promised money had been spent.",
    "Shipping agents expect the backlog to last until well into the next season.",
    "The national press paid little attention until the problem reached the capital.",
    "Engineers involved in the work say the technical challenges are real but solvable with time and money.",
    "Retailers have begun to pass the higher costs on to customers, one product at a time.",
    "The authorities have not published the full data, citing commercial confidentiality.",
    "For now, the town is waiting, and the people who live there are making their own plans.",
    "Similar debates are under way in other countries facing the same pressures.",
    "Independent analysts estimate the total cost at several times the official figure.",
    "Local officials insist the situation is under control and that the worst is over.",
    "The company declined to comment on the details but said it was in talks with the authorities.",
    "Few of the people affected expect the promised compensation to arrive quickly.",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_realistically_sized() {
        let generator = Generator {
            topics: vec![1, 2, 3],
            authors: vec![10, 11],
            sources: vec![(100, "ru".into()), (101, "fr".into())],
            base: base_time(),
        };
        let a = generator.article(42, 7);
        let b = generator.article(42, 7);
        assert_eq!(a.markdown, b.markdown);
        assert_eq!(a.slug, b.slug);
        assert!(
            (350..=1200).contains(&a.body.word_count),
            "{}",
            a.body.word_count
        );
        assert!(!a.body.preview_text.is_empty());
        assert!(a.slug.ends_with("-7"));
    }

    #[test]
    fn slugs_are_lowercase_words_joined_by_hyphens() {
        assert_eq!(
            slugify("Port workers brace for an early winter"),
            "port-workers-brace-for-an-early-winter"
        );
        assert_eq!(
            slugify("Teachers' unions test automation"),
            "teachers-unions-test-automation"
        );
    }
}
