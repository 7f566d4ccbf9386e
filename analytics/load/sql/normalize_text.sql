-- grain: each row of a staging table whose cell is listed in the registered frame text_map (src, dst): the cell set to its normal form dst (empty becomes null). Slots: raw, the staging table; c, the free-text column
update {raw} set {c} = nullif(m.dst, '') from text_map m where {raw}.{c} = m.src
