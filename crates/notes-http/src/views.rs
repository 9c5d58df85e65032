//! The JSON shapes of notes and posts in responses. Notes keep the labs' field names (`NoteId`,
//! `Note`); posts keep the board tutorial's (`id`, `title`, `contents`, `author`, `createdAt`).

use notes_domain::{Note, Post};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct NoteView<'a> {
    #[serde(rename = "NoteId")]
    pub note_id: &'a str,
    #[serde(rename = "Note")]
    pub note: &'a str,
    #[serde(rename = "CreatedAt")]
    pub created_at: String,
    #[serde(rename = "UpdatedAt")]
    pub updated_at: String,
    #[serde(rename = "Version")]
    pub version: u64,
}

impl<'a> From<&'a Note> for NoteView<'a> {
    fn from(note: &'a Note) -> Self {
        Self {
            note_id: note.note_id.as_str(),
            note: note.text.as_str(),
            created_at: note.created_at.to_rfc3339_millis(),
            updated_at: note.updated_at.to_rfc3339_millis(),
            version: note.version.get(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostView<'a> {
    pub id: u64,
    pub title: &'a str,
    pub contents: &'a str,
    pub author: &'a str,
    pub created_at: String,
}

impl<'a> From<&'a Post> for PostView<'a> {
    fn from(post: &'a Post) -> Self {
        Self {
            id: post.id.get(),
            title: post.title.as_str(),
            contents: post.contents.as_str(),
            author: post.author.as_str(),
            created_at: post.created_at.to_rfc3339_millis(),
        }
    }
}
