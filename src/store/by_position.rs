//! Rows decoded by column position. sqlx's derived `FromRow` finds every column by its name, a hash
//! lookup per column per row: for the wide rows of hot reads that was most of their decoding (a
//! twentieth of a single-device read, two fifths of an MVNO page). Here a struct's fields are its
//! statement's columns, in order; builds with debug assertions (every test run) check the names.

/// `from_row_by_position!(Type { column, column as Stored => Field, ... } default field, ...)`:
/// `FromRow` for Postgres and SQLite rows, the columns in the order given; `as Stored => Field` reads
/// a `Stored` and converts it with `Field::try_from`; fields after `default` are not columns.
macro_rules! from_row_by_position {
    ($t:ident { $($field:ident $(as $via:ty => $to:ty)?),* $(,)? } $(default $($skip:ident),*)?) => {
        $crate::store::by_position::from_row_by_position!(@one sqlx::postgres::PgRow, $t { $($field $(as $via => $to)?),* } $($($skip),*)?);
        $crate::store::by_position::from_row_by_position!(@one sqlx::sqlite::SqliteRow, $t { $($field $(as $via => $to)?),* } $($($skip),*)?);
    };
    (@one $row:ty, $t:ident { $($field:ident $(as $via:ty => $to:ty)?),* } $($skip:ident),*) => {
        impl<'r> sqlx::FromRow<'r, $row> for $t {
            fn from_row(row: &'r $row) -> Result<Self, sqlx::Error> {
                use sqlx::{Column as _, Row as _};
                if cfg!(debug_assertions) {
                    let names: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
                    assert_eq!(
                        names,
                        [$(stringify!($field)),*],
                        concat!("the statement's columns are not those of ", stringify!($t))
                    );
                }
                let mut at = 0usize;
                $(
                    let $field = $crate::store::by_position::from_row_by_position!(@get row, at $(, $via => $to)?);
                    at += 1;
                )*
                let _ = at;
                Ok($t { $($field,)* $($skip: Default::default(),)* })
            }
        }
    };
    (@get $row:ident, $at:ident) => {
        $row.try_get($at)?
    };
    (@get $row:ident, $at:ident, $via:ty => $to:ty) => {{
        let stored: $via = $row.try_get($at)?;
        <$to>::try_from(stored).map_err(|e| sqlx::Error::ColumnDecode {
            index: $at.to_string(),
            source: e.into(),
        })?
    }};
}

pub(crate) use from_row_by_position;
