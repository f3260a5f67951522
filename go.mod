module github.com/fourd/fourd

go 1.26.8
