//! The demo publication's catalogue. Every outlet, person and sentence here
//! is invented for the demo.

pub(super) struct DemoSource {
    pub slug: &'static str,
    pub name: &'static str,
    pub country: &'static str,
    pub language: &'static str,
    pub homepage: &'static str,
}

pub(super) struct DemoAuthor {
    pub slug: &'static str,
    pub name: &'static str,
    pub bio: &'static str,
    pub source: Option<&'static str>,
}

pub(super) struct DemoTopic {
    pub slug: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// A paragraph of background that articles on this topic may close with.
    pub context: &'static str,
}

macro_rules! source {
    ($slug:literal, $name:literal, $country:literal, $language:literal) => {
        DemoSource {
            slug: $slug,
            name: $name,
            country: $country,
            language: $language,
            homepage: concat!("https://", $slug, ".example"),
        }
    };
}

pub(super) const SOURCES: &[DemoSource] = &[
    source!("vedomosti-vostoka", "Vedomosti Vostoka", "RU", "ru"),
    source!("courrier-du-rhone", "Le Courrier du Rhône", "FR", "fr"),
    source!("huanan-jingji", "Huanan Jingji Bao", "CN", "zh"),
    source!("nordsee-rundschau", "Nordsee Rundschau", "DE", "de"),
    source!("diario-del-plata", "El Diario del Plata", "AR", "es"),
    source!("al-mirsad", "Al-Mirsad", "LB", "ar"),
    source!("folha-do-cerrado", "Folha do Cerrado", "BR", "pt"),
    source!("gazeta-wislana", "Gazeta Wiślana", "PL", "pl"),
    source!("seto-shimpo", "Seto Shimpo", "JP", "ja"),
    source!("faro-di-genova", "Il Faro di Genova", "IT", "it"),
];

/// Who translates from each language.
pub(super) fn translator_for(language: &str) -> &'static str {
    match language {
        "ru" | "pl" => "Daniel Hart",
        "fr" | "it" => "Claire Montague",
        "zh" | "ja" => "Wen Li",
        "de" => "Jonas Ebert",
        "es" | "pt" => "Lucía Ferreyra",
        "ar" => "Samir Haddad",
        _ => "The newsdesk translation team",
    }
}

macro_rules! author {
    ($slug:literal, $name:literal, $source:expr, $bio:literal) => {
        DemoAuthor {
            slug: $slug,
            name: $name,
            bio: $bio,
            source: $source,
        }
    };
}

pub(super) const AUTHORS: &[DemoAuthor] = &[
    author!(
        "irina-volkova",
        "Irina Volkova",
        Some("vedomosti-vostoka"),
        "Irina Volkova covers shipping, ports and the economy of the Russian Far East from Vladivostok."
    ),
    author!(
        "pavel-lebedev",
        "Pavel Lebedev",
        Some("vedomosti-vostoka"),
        "Pavel Lebedev writes about diplomacy and the arms trade, and has reported from Brussels for a decade."
    ),
    author!(
        "margaux-dufresne",
        "Margaux Dufresne",
        Some("courrier-du-rhone"),
        "Margaux Dufresne follows European institutions and French politics for Le Courrier du Rhône."
    ),
    author!(
        "thibault-garnier",
        "Thibault Garnier",
        Some("courrier-du-rhone"),
        "Thibault Garnier is an economics correspondent with a weakness for railway timetables."
    ),
    author!(
        "zhou-mingyu",
        "Zhou Mingyu",
        Some("huanan-jingji"),
        "Zhou Mingyu reports on manufacturing, trade and technology from Shenzhen."
    ),
    author!(
        "chen-ruolan",
        "Chen Ruolan",
        Some("huanan-jingji"),
        "Chen Ruolan writes about property, local finance and the people who live with both."
    ),
    author!(
        "henrike-brandt",
        "Henrike Brandt",
        Some("nordsee-rundschau"),
        "Henrike Brandt covers energy, wind power and the North Sea economy from Bremerhaven."
    ),
    author!(
        "mateo-quiroga",
        "Mateo Quiroga",
        Some("diario-del-plata"),
        "Mateo Quiroga reports on Argentine politics, inflation and the price of everything."
    ),
    author!(
        "nour-khalil",
        "Nour Khalil",
        Some("al-mirsad"),
        "Nour Khalil covers the eastern Mediterranean, its ports, its banks and its elections."
    ),
    author!(
        "rafael-amaral",
        "Rafael Amaral",
        Some("folha-do-cerrado"),
        "Rafael Amaral writes about agriculture, water and the savanna that feeds half the world."
    ),
    author!(
        "agnieszka-nowicka",
        "Agnieszka Nowicka",
        Some("gazeta-wislana"),
        "Agnieszka Nowicka covers defence, the eastern border and Polish society."
    ),
    author!(
        "haruto-mori",
        "Haruto Mori",
        Some("seto-shimpo"),
        "Haruto Mori reports on technology, demography and the towns of the Inland Sea."
    ),
    author!(
        "giulia-ferraro",
        "Giulia Ferraro",
        Some("faro-di-genova"),
        "Giulia Ferraro covers shipping, climate and the Ligurian coast."
    ),
    author!(
        "daniel-hart",
        "Daniel Hart",
        None,
        "Daniel Hart is a newsdesk editor and translates from Russian and Polish."
    ),
    author!(
        "claire-montague",
        "Claire Montague",
        None,
        "Claire Montague edits the Europe desk and translates from French and Italian."
    ),
    author!(
        "samir-haddad",
        "Samir Haddad",
        None,
        "Samir Haddad edits the Middle East desk and translates from Arabic."
    ),
];

pub(super) const TOPICS: &[DemoTopic] = &[
    DemoTopic {
        slug: "russia",
        name: "Russia",
        description: "Politics, economy and society in Russia, as its own press reports them.",
        context: "Russian regional newspapers have become one of the few places where the costs of policy made in Moscow are counted in detail, by reporters who live with the consequences.",
    },
    DemoTopic {
        slug: "china",
        name: "China",
        description: "China's economy, technology and politics, translated from the Chinese-language press.",
        context: "Chinese business papers write for readers who need numbers more than slogans, which makes them an unusually direct window on how policy lands in factories and households.",
    },
    DemoTopic {
        slug: "europe",
        name: "Europe",
        description: "The European Union, its members and its neighbours.",
        context: "Decisions taken in Brussels are felt first in regional capitals, and the local press there is often quicker than national outlets to notice what has changed.",
    },
    DemoTopic {
        slug: "middle-east",
        name: "Middle East",
        description: "The Levant, the Gulf and North Africa, from the Arabic-language press.",
        context: "Arabic-language outlets in the region report on each other's politics with a familiarity that foreign correspondents rarely match.",
    },
    DemoTopic {
        slug: "latin-america",
        name: "Latin America",
        description: "Politics, economies and cities from Mexico to Patagonia.",
        context: "Across Latin America, local newsrooms have kept reporting on inflation, elections and crime through years of shrinking budgets, and their coverage rarely reaches readers abroad.",
    },
    DemoTopic {
        slug: "asia-pacific",
        name: "Asia-Pacific",
        description: "Japan, Korea, South-East Asia and the Pacific.",
        context: "Japan's regional papers cover ageing towns and advanced industry side by side, often on the same page.",
    },
    DemoTopic {
        slug: "energy",
        name: "Energy",
        description: "Oil, gas, power grids and the politics of keeping the lights on.",
        context: "Energy stories cross borders faster than most: a pipeline decision in one country shows up in another's heating bills within a season.",
    },
    DemoTopic {
        slug: "economy",
        name: "Economy",
        description: "Trade, prices, jobs and the money that moves between them.",
        context: "Official statistics arrive late and averaged; local reporting on prices and wages is often the first sign that something has shifted.",
    },
    DemoTopic {
        slug: "technology",
        name: "Technology",
        description: "Chips, software, platforms and the rules written for them.",
        context: "Technology policy is now industrial policy, and each country's press reads the same announcements through its own anxieties.",
    },
    DemoTopic {
        slug: "climate",
        name: "Climate",
        description: "Heat, water, ice and how societies adapt to them.",
        context: "Climate reporting in the regional press is less about targets than about harvests, rivers and insurance premiums.",
    },
    DemoTopic {
        slug: "security",
        name: "Security",
        description: "Defence, arms control and the wars that shape both.",
        context: "Defence reporting in frontline states is written for readers who expect to be affected, and it shows in the detail.",
    },
];
