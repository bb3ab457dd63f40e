//! The `content_authoring` signals and their payloads: what Studio and content libraries announce
//! while content is written, published and organized.

use openedx_events::openedx_event;

use crate::content_authoring::data::{
    CertificateConfigData, ContentLibraryData, ContentObjectChangedData, ContentObjectData, CourseCatalogData,
    CourseData, DuplicatedXBlockData, LibraryBlockData, LibraryCollectionData, LibraryContainerData, XBlockData,
};

/// Sent when something about a course that catalogs care about (its name, schedule or
/// visibility) changes in Studio.
///
/// Emitted by `openedx/edx-platform`. Keyed on the event bus by the course key
/// (`catalog_info.course_key`).
#[openedx_event(
    name = COURSE_CATALOG_INFO_CHANGED,
    event_type = "org.openedx.content_authoring.course.catalog_info.changed.v1",
    key_field = "catalog_info.course_key"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CourseCatalogInfoChanged {
    /// The course's catalog entry as it is now.
    pub catalog_info: CourseCatalogData,
}

/// Sent when an author adds a new XBlock to a course.
///
/// Emitted by `openedx/edx-platform`. Keyed on the event bus by the block's usage key
/// (`xblock_info.usage_key`).
#[openedx_event(
    name = XBLOCK_CREATED,
    event_type = "org.openedx.content_authoring.xblock.created.v1",
    key_field = "xblock_info.usage_key"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct XblockCreated {
    /// The new block.
    pub xblock_info: XBlockData,
}

/// Sent when an author changes an XBlock of a course.
///
/// Emitted by `openedx/edx-platform`. Keyed on the event bus by the block's usage key
/// (`xblock_info.usage_key`).
#[openedx_event(
    name = XBLOCK_UPDATED,
    event_type = "org.openedx.content_authoring.xblock.updated.v1",
    key_field = "xblock_info.usage_key"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct XblockUpdated {
    /// The changed block.
    pub xblock_info: XBlockData,
}

/// Sent when an XBlock is published. Publishing a parent whose children changed sends a single
/// event, for the parent only: publishing a section with several changed units sends one event
/// naming the section (`block_type` `chapter`).
///
/// Emitted by `openedx/edx-platform`. Keyed on the event bus by the block's usage key
/// (`xblock_info.usage_key`).
#[openedx_event(
    name = XBLOCK_PUBLISHED,
    event_type = "org.openedx.content_authoring.xblock.published.v1",
    key_field = "xblock_info.usage_key"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct XblockPublished {
    /// The published block (the topmost one, when a parent and its children are published).
    pub xblock_info: XBlockData,
}

/// Sent when an author removes an XBlock from a course.
///
/// Emitted by `openedx/edx-platform`. Keyed on the event bus by the block's usage key
/// (`xblock_info.usage_key`).
#[openedx_event(
    name = XBLOCK_DELETED,
    event_type = "org.openedx.content_authoring.xblock.deleted.v1",
    key_field = "xblock_info.usage_key"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct XblockDeleted {
    /// The removed block.
    pub xblock_info: XBlockData,
}

/// Sent when an author copies an XBlock in Studio.
///
/// Emitted by `openedx/edx-platform`. Keyed on the event bus by the new block's usage key
/// (`xblock_info.usage_key`).
#[openedx_event(
    name = XBLOCK_DUPLICATED,
    event_type = "org.openedx.content_authoring.xblock.duplicated.v1",
    key_field = "xblock_info.usage_key"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct XblockDuplicated {
    /// The new block and the block it was copied from.
    pub xblock_info: DuplicatedXBlockData,
}

/// Meant to be sent when the certificate configuration of a course changes in Studio.
///
/// No Open edX service emits it today; upstream may change or drop it (see
/// <https://github.com/openedx/openedx-events/issues/445>). Its data holds signature images,
/// which have no wire form, so it cannot go over the event bus. No key field.
#[openedx_event(
    name = COURSE_CERTIFICATE_CONFIG_CHANGED,
    event_type = "org.openedx.content_authoring.course.certificate_config.changed.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CourseCertificateConfigChanged {
    /// The configuration as it is now.
    pub certificate_config: CertificateConfigData,
}

/// Meant to be sent when the certificate configuration of a course is removed in Studio.
///
/// No Open edX service emits it today; upstream may change or drop it (see
/// <https://github.com/openedx/openedx-events/issues/445>). Its data holds signature images,
/// which have no wire form, so it cannot go over the event bus. No key field.
#[openedx_event(
    name = COURSE_CERTIFICATE_CONFIG_DELETED,
    event_type = "org.openedx.content_authoring.course.certificate_config.deleted.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CourseCertificateConfigDeleted {
    /// The configuration that was removed.
    pub certificate_config: CertificateConfigData,
}

/// Sent when a new course is made.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(name = COURSE_CREATED, event_type = "org.openedx.content_authoring.course.created.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct CourseCreated {
    /// The new course.
    pub course: CourseData,
}

/// Sent when a new content library is made.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = CONTENT_LIBRARY_CREATED,
    event_type = "org.openedx.content_authoring.content_library.created.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct ContentLibraryCreated {
    /// The new library.
    pub content_library: ContentLibraryData,
}

/// Sent when the library itself changes, for instance its name. Changes to the items inside it
/// do not send this event, even though they change when the library was last updated or
/// published: listen to the `LIBRARY_*` events for those.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = CONTENT_LIBRARY_UPDATED,
    event_type = "org.openedx.content_authoring.content_library.updated.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct ContentLibraryUpdated {
    /// The changed library.
    pub content_library: ContentLibraryData,
}

/// Sent when a content library is removed.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = CONTENT_LIBRARY_DELETED,
    event_type = "org.openedx.content_authoring.content_library.deleted.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct ContentLibraryDeleted {
    /// The removed library.
    pub content_library: ContentLibraryData,
}

/// Sent when a block is added to a content library.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = LIBRARY_BLOCK_CREATED,
    event_type = "org.openedx.content_authoring.library_block.created.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryBlockCreated {
    /// The new block and its library.
    pub library_block: LibraryBlockData,
}

/// Sent when the draft of a library block changes.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = LIBRARY_BLOCK_UPDATED,
    event_type = "org.openedx.content_authoring.library_block.updated.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryBlockUpdated {
    /// The changed block and its library.
    pub library_block: LibraryBlockData,
}

/// Sent when the draft of a library block is removed.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = LIBRARY_BLOCK_DELETED,
    event_type = "org.openedx.content_authoring.library_block.deleted.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryBlockDeleted {
    /// The removed block and its library.
    pub library_block: LibraryBlockData,
}

/// Sent when a library block is published, including when the removal of its draft is
/// published.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = LIBRARY_BLOCK_PUBLISHED,
    event_type = "org.openedx.content_authoring.library_block.published.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryBlockPublished {
    /// The published block and its library.
    pub library_block: LibraryBlockData,
}

/// Sent when what a piece of content is associated with (its tags, the collections it is in, ...)
/// changes.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = CONTENT_OBJECT_ASSOCIATIONS_CHANGED,
    event_type = "org.openedx.content_authoring.content.object.associations.changed.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct ContentObjectAssociationsChanged {
    /// The content and which of its associations changed.
    pub content_object: ContentObjectChangedData,
}

/// Sent when the tags of a piece of content change.
///
/// Deprecated upstream: listen to [`CONTENT_OBJECT_ASSOCIATIONS_CHANGED`] instead. No key field.
#[openedx_event(
    name = CONTENT_OBJECT_TAGS_CHANGED,
    event_type = "org.openedx.content_authoring.content.object.tags.changed.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct ContentObjectTagsChanged {
    /// The content whose tags changed.
    pub content_object: ContentObjectData,
}

/// Sent when a collection is made in a content library.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = LIBRARY_COLLECTION_CREATED,
    event_type = "org.openedx.content_authoring.content_library.collection.created.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryCollectionCreated {
    /// The new collection.
    pub library_collection: LibraryCollectionData,
}

/// Sent when a collection of a content library changes.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = LIBRARY_COLLECTION_UPDATED,
    event_type = "org.openedx.content_authoring.content_library.collection.updated.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryCollectionUpdated {
    /// The changed collection.
    pub library_collection: LibraryCollectionData,
}

/// Sent when a collection is removed from a content library.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = LIBRARY_COLLECTION_DELETED,
    event_type = "org.openedx.content_authoring.content_library.collection.deleted.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryCollectionDeleted {
    /// The removed collection.
    pub library_collection: LibraryCollectionData,
}

/// Sent when a container (a unit, a section, ...) is made in a content library.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = LIBRARY_CONTAINER_CREATED,
    event_type = "org.openedx.content_authoring.content_library.container.created.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryContainerCreated {
    /// The new container.
    pub library_container: LibraryContainerData,
}

/// Sent when a container of a content library changes.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = LIBRARY_CONTAINER_UPDATED,
    event_type = "org.openedx.content_authoring.content_library.container.updated.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryContainerUpdated {
    /// The changed container.
    pub library_container: LibraryContainerData,
}

/// Sent when a container is removed from a content library.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = LIBRARY_CONTAINER_DELETED,
    event_type = "org.openedx.content_authoring.content_library.container.deleted.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryContainerDeleted {
    /// The removed container.
    pub library_container: LibraryContainerData,
}

/// Sent when a library container is published, including when the removal of its draft is
/// published.
///
/// Emitted by `openedx/edx-platform`. No key field.
#[openedx_event(
    name = LIBRARY_CONTAINER_PUBLISHED,
    event_type = "org.openedx.content_authoring.content_library.container.published.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryContainerPublished {
    /// The published container.
    pub library_container: LibraryContainerData,
}

/// Sent once a course import has finished.
///
/// Emitted by `openedx/edx-platform`. Upstream declares the key field `catalog_info.course_key`,
/// which does not exist in this payload (the course key is at `course.course_key`); it is kept
/// as upstream declares it.
#[openedx_event(
    name = COURSE_IMPORT_COMPLETED,
    event_type = "org.openedx.content_authoring.course.import.completed.v1",
    key_field = "catalog_info.course_key",
    allow_unresolved_key_field
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CourseImportCompleted {
    /// The course that was imported into.
    pub course: CourseData,
}

/// Sent once a course rerun (a new run made from an existing course) has finished.
///
/// Emitted by `openedx/edx-platform`. Upstream declares the key field `catalog_info.course_key`,
/// which does not exist in this payload (the course key is at `course.course_key`); it is kept
/// as upstream declares it.
#[openedx_event(
    name = COURSE_RERUN_COMPLETED,
    event_type = "org.openedx.content_authoring.course.rerun.completed.v1",
    key_field = "catalog_info.course_key",
    allow_unresolved_key_field
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CourseRerunCompleted {
    /// The new run.
    pub course: CourseData,
}
