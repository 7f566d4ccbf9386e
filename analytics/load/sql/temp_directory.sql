-- grain: the folder the database spills to during this load (the load's private scratch folder)
set temp_directory = $dir
