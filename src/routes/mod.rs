//! HTTP handlers, one file per resource; what they share is in `crate::http`.

pub mod admin;
pub mod api_keys;
pub mod articles;
pub mod auth;
pub mod authors;
pub mod curation;
pub mod docs;
pub mod feeds;
pub mod health;
pub mod home;
pub mod me;
pub mod newsletters;
pub mod newsroom;
pub mod plans;
pub mod sources;
pub mod subscriptions;
pub mod topics;
pub mod webhooks;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every `/api/v1` endpoint.
pub(crate) fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(articles::list_articles)
        .service(articles::get_article)
        .service(home::get_home)
        .service(feeds::rss)
        .service(feeds::atom)
        .service(feeds::json_feed)
        .service(topics::list_topics)
        .service(home::get_trending_topics)
        .service(topics::get_topic)
        .service(authors::list_authors)
        .service(authors::get_author)
        .service(sources::list_sources)
        .service(sources::get_source)
        .service(auth::register)
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::logout_all)
        .service(me::get_me)
        .service(me::update_me)
        .service(me::change_password)
        .service(me::get_my_meter)
        .service(newsroom::create_article)
        .service(newsroom::update_article)
        .service(newsroom::publish_article)
        .service(newsroom::unpublish_article)
        .service(newsroom::archive_article)
        .service(newsroom::delete_article)
        .service(curation::create_topic)
        .service(curation::update_topic)
        .service(curation::delete_topic)
        .service(curation::create_author)
        .service(curation::update_author)
        .service(curation::delete_author)
        .service(curation::create_source)
        .service(curation::update_source)
        .service(curation::delete_source)
        .service(admin::list_users)
        .service(admin::update_user)
        .service(admin::list_audit)
        .service(plans::list_plans)
        .service(plans::create_plan)
        .service(plans::update_plan)
        .service(subscriptions::subscribe)
        .service(subscriptions::get_my_subscription)
        .service(subscriptions::cancel_subscription)
        .service(subscriptions::resume_subscription)
        .service(webhooks::payment_webhook)
        .service(api_keys::create_api_key)
        .service(api_keys::list_api_keys)
        .service(api_keys::revoke_api_key)
        .service(newsletters::list_newsletters)
        .service(newsletters::sign_up)
        .service(newsletters::confirm)
        .service(newsletters::unsubscribe_one_click)
        .service(newsletters::unsubscribe);
}
