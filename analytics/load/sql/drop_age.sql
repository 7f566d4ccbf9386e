-- grain: a new_<table> without its _age column (the age an age band was derived from is not kept). Slots: n, the table
alter table {n} drop column _age
