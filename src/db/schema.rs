//! Table definitions shared by both backends; portable column types only.

diesel::table! {
    sources (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        country -> Text,
        language -> Text,
        homepage_url -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    authors (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        bio -> Text,
        avatar_url -> Nullable<Text>,
        affiliation_source_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    topics (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        description -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    articles (id) {
        id -> BigInt,
        slug -> Text,
        headline -> Text,
        dek -> Text,
        dateline -> Nullable<Text>,
        hero_image_url -> Nullable<Text>,
        hero_image_alt -> Nullable<Text>,
        hero_image_caption -> Nullable<Text>,
        hero_image_credit -> Nullable<Text>,
        kind -> Text,
        video_url -> Nullable<Text>,
        original_source_id -> Nullable<BigInt>,
        original_language -> Nullable<Text>,
        original_title -> Nullable<Text>,
        original_url -> Nullable<Text>,
        translator -> Nullable<Text>,
        status -> Text,
        access_level -> Text,
        featured -> Bool,
        featured_rank -> Nullable<Integer>,
        publish_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
        word_count -> Integer,
        reading_time_minutes -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> Integer,
    }
}

diesel::table! {
    article_bodies (article_id) {
        article_id -> BigInt,
        body_markdown -> Text,
        body_html -> Text,
        body_text -> Text,
        preview_html -> Text,
        preview_text -> Text,
    }
}

diesel::table! {
    article_authors (article_id, author_id) {
        article_id -> BigInt,
        author_id -> BigInt,
        position -> Integer,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    article_topics (article_id, topic_id) {
        article_id -> BigInt,
        topic_id -> BigInt,
        is_primary -> Bool,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(authors -> sources (affiliation_source_id));
diesel::joinable!(articles -> sources (original_source_id));
diesel::joinable!(article_bodies -> articles (article_id));
diesel::joinable!(article_authors -> articles (article_id));
diesel::joinable!(article_authors -> authors (author_id));
diesel::joinable!(article_topics -> articles (article_id));
diesel::joinable!(article_topics -> topics (topic_id));

diesel::allow_tables_to_appear_in_same_query!(
    sources,
    authors,
    topics,
    articles,
    article_bodies,
    article_authors,
    article_topics,
);

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        family -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        scope -> Text,
        failed_at -> Timestamp,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, refresh_tokens);

diesel::table! {
    article_redirects (old_slug) {
        old_slug -> Text,
        article_id -> BigInt,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        target -> Text,
        details -> Text,
        at -> Timestamp,
    }
}

diesel::joinable!(article_redirects -> articles (article_id));
diesel::allow_tables_to_appear_in_same_query!(articles, article_redirects);
diesel::allow_tables_to_appear_in_same_query!(audit_events, users);

diesel::table! {
    meter_reads (reader, month, article_id) {
        reader -> Text,
        month -> Text,
        article_id -> BigInt,
        read_at -> Timestamp,
    }
}

diesel::table! {
    plans (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        price_minor -> BigInt,
        currency -> Text,
        billing_interval -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> BigInt,
        public_id -> Text,
        user_id -> BigInt,
        plan_id -> BigInt,
        provider -> Text,
        status -> Text,
        current_period_start -> Nullable<Timestamp>,
        current_period_end -> Nullable<Timestamp>,
        cancel_at_period_end -> Bool,
        grace_until -> Nullable<Timestamp>,
        last_payment_at -> Nullable<Timestamp>,
        canceled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, idempotency_key) {
        user_id -> BigInt,
        idempotency_key -> Text,
        request_hash -> Text,
        response_status -> Integer,
        response_body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payment_events (event_id) {
        event_id -> Text,
        event_type -> Text,
        outcome -> Text,
        received_at -> Timestamp,
    }
}

diesel::joinable!(subscriptions -> plans (plan_id));
diesel::joinable!(subscriptions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(subscriptions, plans, users);

diesel::table! {
    article_views (article_id, hour) {
        article_id -> BigInt,
        hour -> Timestamp,
        views -> Integer,
    }
}

diesel::joinable!(article_views -> articles (article_id));
diesel::allow_tables_to_appear_in_same_query!(article_views, articles);
diesel::allow_tables_to_appear_in_same_query!(article_views, article_topics);
diesel::allow_tables_to_appear_in_same_query!(article_views, topics);

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        name -> Text,
        prefix -> Text,
        secret_hash -> Text,
        scopes -> Text,
        rate_limit_per_minute -> Integer,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rate_limit_windows (bucket, window_start) {
        bucket -> Text,
        window_start -> Timestamp,
        hits -> Integer,
    }
}

diesel::table! {
    newsletters (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        description -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    newsletter_signups (id) {
        id -> BigInt,
        newsletter_id -> BigInt,
        email -> Text,
        status -> Text,
        confirm_token_hash -> Nullable<Text>,
        confirm_sent_at -> Nullable<Timestamp>,
        unsubscribe_token_hash -> Text,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        unsubscribed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> BigInt,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        unsubscribe_url -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(newsletter_signups -> newsletters (newsletter_id));
diesel::allow_tables_to_appear_in_same_query!(newsletters, newsletter_signups);
