//! The data types that `content_authoring` events carry: courses and their catalog entries,
//! XBlocks, certificate configurations, content libraries and their blocks, collections and
//! containers, and tagged content objects.

use std::fmt;

use chrono::{DateTime, Utc};
use openedx_events::avro::{AvroReader, AvroWriter, DecodeError, JsonError};
use openedx_events::keys::{
    CourseKey, LibraryCollectionLocator, LibraryContainerLocator, LibraryLocatorV2, LibraryUsageLocatorV2, UsageKey,
};
use openedx_events::{EventData, EventField, FieldType};

/// A course, identified by its key alone.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CourseData {
    /// The course's key, such as `course-v1:edX+DemoX+Demo_Course`.
    pub course_key: CourseKey,
}

/// When a course runs and how learners move through it.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CourseScheduleData {
    /// When the course begins.
    pub start: DateTime<Utc>,
    /// How the course is paced: `instructor` (instructor-paced) or `self` (self-paced).
    pub pacing: String,
    /// When the course ends, if it has an end date.
    pub end: Option<DateTime<Utc>>,
    /// When enrollment opens, if it is restricted.
    pub enrollment_start: Option<DateTime<Utc>>,
    /// When enrollment closes, if it is restricted.
    pub enrollment_end: Option<DateTime<Utc>>,
}

impl CourseScheduleData {
    /// A schedule with a start and a pacing, and no end or enrollment window.
    pub fn new(start: DateTime<Utc>, pacing: String) -> Self {
        CourseScheduleData { start, pacing, end: None, enrollment_start: None, enrollment_end: None }
    }
}

/// The part of a course that catalogs and marketing sites show: its name, schedule and
/// visibility.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CourseCatalogData {
    /// The course's key.
    pub course_key: CourseKey,
    /// The course's display name.
    pub name: String,
    /// The course's dates and pacing.
    pub schedule_data: CourseScheduleData,
    /// Whether the course is left out of search and listings; `false` unless set.
    pub hidden: bool,
    /// Whether learners need an invitation to enroll; `false` unless set.
    pub invitation_only: bool,
}

impl CourseCatalogData {
    /// A catalog entry that is neither hidden nor invitation-only.
    pub fn new(course_key: CourseKey, name: String, schedule_data: CourseScheduleData) -> Self {
        CourseCatalogData { course_key, name, schedule_data, hidden: false, invitation_only: false }
    }
}

/// An XBlock (a unit of course content, such as a problem, a video or a section).
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct XBlockData {
    /// The block's usage key, which locates it in its course.
    pub usage_key: UsageKey,
    /// The kind of block, such as `problem`, `video`, `vertical` or `chapter`.
    pub block_type: String,
    /// The usage key with branch and version information, pinning the exact version of the
    /// block, when the sender knows it.
    pub version: Option<UsageKey>,
}

impl XBlockData {
    /// A block without version information.
    pub fn new(usage_key: UsageKey, block_type: String) -> Self {
        XBlockData { usage_key, block_type, version: None }
    }
}

/// An XBlock made as a copy of another one; the fields of [`XBlockData`] plus the original's key.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct DuplicatedXBlockData {
    /// The new block's usage key.
    pub usage_key: UsageKey,
    /// The kind of block, such as `problem` or `vertical`.
    pub block_type: String,
    /// The new block's usage key with branch and version information, when the sender knows it.
    pub version: Option<UsageKey>,
    /// The usage key of the block that was copied.
    pub source_usage_key: UsageKey,
}

impl DuplicatedXBlockData {
    /// A copied block without version information.
    pub fn new(usage_key: UsageKey, block_type: String, source_usage_key: UsageKey) -> Self {
        DuplicatedXBlockData { usage_key, block_type, version: None, source_usage_key }
    }
}

/// The contents of a binary file held in memory: upstream's `BinaryIO`, used for a certificate
/// signatory's signature image.
///
/// Events can carry it between receivers in one process, but it has no wire form: an event
/// holding one cannot be sent over the event bus, as upstream cannot either. Its field type is
/// [`FieldType::Unserializable`], named `BinaryIO`. Keep the file small: receivers get a copy of
/// it with every clone of the payload.
///
/// ```
/// use openedx_events::{EventField, FieldType};
/// use openedx_events_catalog::content_authoring::data::BinaryFile;
/// use openedx_events_catalog::content_authoring::signals::COURSE_CERTIFICATE_CONFIG_CHANGED;
///
/// let signature = BinaryFile::named("signature.png", vec![0x89, b'P', b'N', b'G']);
/// assert_eq!(signature.to_string(), "signature.png (4 bytes)");
/// assert_eq!(*BinaryFile::TYPE, FieldType::Unserializable("BinaryIO"));
/// assert!(!COURSE_CERTIFICATE_CONFIG_CHANGED.data().is_serializable());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BinaryFile {
    /// The file's name, if it has one.
    pub name: Option<String>,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

impl BinaryFile {
    /// A file with these bytes and no name.
    pub fn new(bytes: Vec<u8>) -> Self {
        BinaryFile { name: None, bytes }
    }

    /// A file with this name and these bytes.
    pub fn named(name: impl Into<String>, bytes: Vec<u8>) -> Self {
        BinaryFile { name: Some(name.into()), bytes }
    }
}

impl fmt::Display for BinaryFile {
    /// Writes the name (or `<unnamed>`) and the size, never the contents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} bytes)", self.name.as_deref().unwrap_or("<unnamed>"), self.bytes.len())
    }
}

/// Signals holding a `BinaryFile` refuse to go over the bus before any byte is written (their
/// Avro schema is an error), so the codec below is only reached when a program calls it itself:
/// it keeps the bytes (Avro `bytes`, a JSON array of numbers) and drops the name.
impl EventField for BinaryFile {
    const TYPE: &'static FieldType = &FieldType::Unserializable("BinaryIO");

    fn write_avro(&self, writer: &mut AvroWriter<'_>) {
        writer.write_bytes(&self.bytes);
    }

    fn read_avro(reader: &mut AvroReader<'_>) -> Result<Self, DecodeError> {
        reader.read_bytes().map(|bytes| BinaryFile::new(bytes.to_vec()))
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array(self.bytes.iter().map(|b| serde_json::Value::from(*b)).collect())
    }

    fn from_json(value: &serde_json::Value) -> Result<Self, JsonError> {
        let items = value.as_array().ok_or_else(|| JsonError::expected("an array of bytes", value))?;
        let bytes = items
            .iter()
            .map(|item| {
                item.as_u64().and_then(|b| u8::try_from(b).ok()).ok_or_else(|| JsonError::expected("a byte", item))
            })
            .collect::<Result<Vec<u8>, JsonError>>()?;
        Ok(BinaryFile::new(bytes))
    }
}

/// A person who signs a course certificate.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CertificateSignatoryData {
    /// The image of the signature. A file in memory: events holding one cannot go over the
    /// event bus.
    pub image: BinaryFile,
    /// The signatory's name.
    pub name: String,
    /// The organization the signatory belongs to.
    pub organization: String,
    /// The signatory's title or position.
    pub title: String,
}

/// How the certificates of a course look and who signs them.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CertificateConfigData {
    /// The course mode the certificate is for: `credit`, `verified`, `professional`,
    /// `no-id-professional`, `executive-education`, `paid-executive-education`,
    /// `paid-bootcamp` or `masters`.
    pub certificate_type: String,
    /// The course's key.
    pub course_key: CourseKey,
    /// The certificate's title.
    pub title: String,
    /// The people who sign the certificate; none unless set.
    pub signatories: Vec<CertificateSignatoryData>,
    /// Whether this configuration is the one in use; `false` unless set.
    pub is_active: bool,
}

impl CertificateConfigData {
    /// An inactive configuration without signatories.
    pub fn new(certificate_type: String, course_key: CourseKey, title: String) -> Self {
        CertificateConfigData { certificate_type, course_key, title, signatories: Vec::new(), is_active: false }
    }
}

/// A content library (v2).
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct ContentLibraryData {
    /// The library's key, such as `lib:edX:demo-lib`.
    pub library_key: LibraryLocatorV2,
    /// Deprecated upstream: asked receivers to reindex the library's blocks. Senders now emit an
    /// event per changed item instead. `false` unless set.
    pub update_blocks: bool,
}

impl ContentLibraryData {
    /// A library with `update_blocks` off.
    pub fn new(library_key: LibraryLocatorV2) -> Self {
        ContentLibraryData { library_key, update_blocks: false }
    }
}

/// A block inside a content library (v2).
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct LibraryBlockData {
    /// The key of the library that holds the block.
    pub library_key: LibraryLocatorV2,
    /// The block's usage key within the library.
    pub usage_key: LibraryUsageLocatorV2,
}

/// A piece of content (a course or a block, possibly in a library), named by its id as text.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct ContentObjectData {
    /// The content's id as a string, such as a course key or a usage key
    /// (`block-v1:Org+Course+Run+type@vertical+block@...`).
    pub object_id: String,
}

/// A piece of content whose associations (tags, collections, ...) changed; the fields of
/// [`ContentObjectData`] plus what changed.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct ContentObjectChangedData {
    /// The content's id as a string, such as a course key or a usage key.
    pub object_id: String,
    /// What changed, such as `tags` or `collections`. Empty (the default) means that anything
    /// may have changed.
    pub changes: Vec<String>,
}

impl ContentObjectChangedData {
    /// A change to the content's associations without saying which: anything may have changed.
    pub fn new(object_id: String) -> Self {
        ContentObjectChangedData { object_id, changes: Vec::new() }
    }
}

/// A collection of items in a content library.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct LibraryCollectionData {
    /// The collection's key, which names its library too.
    pub collection_key: LibraryCollectionLocator,
    /// Deprecated upstream: told receivers that the sender would not wait for them. Senders that
    /// expect heavy receivers now send from a background task instead. `false` unless set.
    pub background: bool,
}

impl LibraryCollectionData {
    /// A collection with `background` off.
    pub fn new(collection_key: LibraryCollectionLocator) -> Self {
        LibraryCollectionData { collection_key, background: false }
    }
}

/// A container (such as a unit or a section) in a content library.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct LibraryContainerData {
    /// The container's key, which names its library too.
    pub container_key: LibraryContainerLocator,
    /// Deprecated upstream: told receivers that the sender would not wait for them. Senders that
    /// expect heavy receivers now send from a background task instead. `false` unless set.
    pub background: bool,
}

impl LibraryContainerData {
    /// A container with `background` off.
    pub fn new(container_key: LibraryContainerLocator) -> Self {
        LibraryContainerData { container_key, background: false }
    }
}
